"""Mark the text of Django templates for translation without touching their markup.

    python tools/mark_translatable.py src/councils/<app>/templates/<app>/<page>.html ...

Each run of text (with the {{ variables }} inside it) between tags becomes {% translate "..." %}, or
{% blocktranslate with name=expr %}...{{ name }}...{% endblocktranslate %} when it holds variables; the attributes
aria-label, title, placeholder and alt too. Text already inside {% blocktranslate %}, <script>, <style> and <pre> is
left alone, and {% load i18n %} is added once, so running it again on a marked template changes nothing. Review
the result (a sentence split by a link becomes two messages), then refresh the catalogues (docs/translations.md)."""
import keyword
import re
import sys

TOKEN = re.compile(r"({%.*?%}|{{.*?}}|{#.*?#})", re.DOTALL)
ATTRS = ("aria-label", "title", "placeholder", "alt")
LETTER = re.compile(r"[A-Za-z]")

def varname(expr, used):
    base = expr.split("|")[0].strip()
    last = base.split(".")[-1]
    last = re.sub(r"^get_(.*)_display$", r"\1", last)
    if not re.match(r"^[A-Za-z_]\w*$", last) or keyword.iskeyword(last) or last in ("count", "with", "trimmed", "context", "asvar"):
        last = "value"
    name, n = last, 2
    while name in used and used[name] != expr:
        name = f"{last}{n}"; n += 1
    used[name] = expr
    return name

def wrap_run(parts):
    """parts: list of ('t', text) / ('v', '{{ expr }}'). Returns the replacement string."""
    text_only = "".join(p for k, p in parts if k == "t")
    if not LETTER.search(text_only):
        return "".join(p for _, p in parts)
    # whitespace outside
    full = "".join(p if k == "t" else "\0" for k, p in parts)
    len(full) - len(full.lstrip())
    len(full) - len(full.rstrip())
    # rebuild with lead/trail cut from the first/last text parts
    parts = list(parts)
    pre = post = ""
    if parts[0][0] == "t":
        s = parts[0][1]; pre = s[: len(s) - len(s.lstrip())]; parts[0] = ("t", s.lstrip())
    if parts[-1][0] == "t":
        s = parts[-1][1]; post = s[len(s.rstrip()):]; parts[-1] = ("t", s.rstrip())
    used = {}
    body, withs = "", []
    for k, p in parts:
        if k == "t":
            body += p
        else:
            expr = p[2:-2].strip()
            name = varname(expr, used)
            if (name, expr) not in withs:
                withs.append((name, expr))
            body += f"{{{{ {name} }}}}"
    if not withs and "\n" not in body and '"' not in body:
        return pre + f'{{% translate "{body}" %}}' + post
    trimmed = " trimmed" if "\n" in body else ""
    w = (" with " + " ".join(f"{n}={e}" for n, e in withs)) if withs else ""
    return pre + f"{{% blocktranslate{w}{trimmed} %}}{body}{{% endblocktranslate %}}" + post

def fix_attrs(tag):
    def rep(m):
        val = m.group(3)
        if "{" in val or not LETTER.search(val):
            return m.group(0)
        q = m.group(2)
        inner = f'{{% translate "{val}" %}}' if q == "'" else f"{{% translate '{val}' %}}"
        return f"{m.group(1)}={q}{inner}{q}"
    return re.sub(r"\b({})=(\"|')(.*?)\2".format("|".join(ATTRS)), rep, tag)

def transform(src, txt=False):
    out = []
    run = []          # current sentence run
    tag = None        # current html tag text being built, or None
    raw_until = None  # inside <script>/<style>/<pre>
    in_block = [False]  # inside {% blocktranslate %}: already marked
    def flush():
        nonlocal run
        if run:
            out.append(wrap_run(run)); run = []
    pieces = TOKEN.split(src)
    for i, piece in enumerate(pieces):
        if i % 2 == 0 and in_block[0]:
            out.append(piece)
            continue
        if i % 2 == 1:  # template token
            if tag is not None:
                tag += piece; continue
            if raw_until:
                out.append(piece); continue
            if in_block[0]:
                out.append(piece)
                if re.match(r"{%\s*end(blocktranslate|blocktrans)\b", piece):
                    in_block[0] = False
                continue
            if piece.startswith("{{"):
                run.append(("v", piece))
            else:
                flush(); out.append(piece)
                if re.match(r"{%\s*(blocktranslate|blocktrans)\b", piece):
                    in_block[0] = True
            continue
        j = 0
        while j < len(piece):
            c = piece[j]
            if tag is not None:
                if c == ">":
                    tag += c
                    m = re.match(r"<\s*(script|style|pre)\b", tag, re.IGNORECASE)
                    if m: raw_until = m.group(1).lower()
                    out.append(fix_attrs(tag)); tag = None
                else:
                    tag += c
                j += 1; continue
            if raw_until:
                end = piece.lower().find("</" + raw_until, j)
                if end < 0:
                    out.append(piece[j:]); break
                out.append(piece[j:end]); j = end; raw_until = None; continue
            if not txt and c == "<" and j + 1 < len(piece) and (piece[j+1].isalpha() or piece[j+1] in "/!"):
                flush(); tag = "<"; j += 1; continue
            if txt and c == "\n":
                flush(); out.append("\n"); j += 1; continue
            # accumulate text char
            if run and run[-1][0] == "t":
                run[-1] = ("t", run[-1][1] + c)
            else:
                run.append(("t", c))
            j += 1
    flush()
    if tag is not None: out.append(tag)
    res = "".join(out)
    # {% load i18n %}
    if re.search(r"{%\s*load\s+[^%]*\bi18n\b", res):
        return res
    m = re.match(r"\s*{%\s*extends[^%]*%}", res)
    if m:
        res = res[: m.end()] + "{% load i18n %}" + res[m.end():]
    else:
        res = "{% load i18n %}" + res
    return res

if __name__ == "__main__":
    for path in sys.argv[1:]:
        with open(path, encoding="utf-8") as handle:
            src = handle.read()
        out = transform(src, txt=path.endswith(".txt"))
        if out != src:
            with open(path, "w", encoding="utf-8") as handle:
                handle.write(out)
            print("marked", path)
