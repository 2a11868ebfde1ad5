// The record checked in the reader's own browser, without taking the server's word for anything:
// the checkpoint's Ed25519 signature by the server's key (WebCrypto), every leaf against the signed
// Merkle root (RFC 9162), the entries' links, and consistency with the last checkpoint this browser
// saw of the chain (kept in localStorage): a rewritten, truncated or forked history is reported. Every member
// signature the chain's entries carry is checked too (WebCrypto Ed25519), with the key its member registered on
// their own chain of the record ("member/..."), itself checked against its signed checkpoint; a key used after its
// revocation, or never registered by the act's member, fails the check. Every word shown comes from the button's
// data-t-* attributes (translated by record/browser_check.html).
(function () {
  "use strict";
  const button = document.querySelector("[data-verify-chain]");
  if (!button) return;
  const out = document.getElementById(button.getAttribute("aria-controls"));
  const chain = button.dataset.verifyChain;
  const enc = new TextEncoder();
  const FORMAT = "councils.statement/v1";

  function t(name, values) {
    let text = button.dataset["t" + name] || name;
    for (const [key, value] of Object.entries(values || {})) text = text.split("{" + key + "}").join(String(value));
    return text;
  }
  function say(text, ok) {
    out.textContent = text;
    out.className = ok === true ? "notice ok" : ok === false ? "errors" : "notice";
  }
  function b64(text) {
    const raw = atob(text);
    const bytes = new Uint8Array(raw.length);
    for (let i = 0; i < raw.length; i++) bytes[i] = raw.charCodeAt(i);
    return bytes;
  }
  function concat(...parts) {
    const size = parts.reduce((n, p) => n + p.length, 0);
    const all = new Uint8Array(size);
    let at = 0;
    for (const p of parts) { all.set(p, at); at += p.length; }
    return all;
  }
  function equal(a, b) {
    if (a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
    return true;
  }
  function b64url(text) {
    if (typeof text !== "string" || !/^[A-Za-z0-9_-]*$/.test(text)) throw new Error("not base64url");
    return b64(text.replace(/-/g, "+").replace(/_/g, "/") + "===".slice((text.length + 3) % 4));
  }
  function canonical(value) {  // RFC 8785 for what statements hold (see keys.js)
    if (value === null || typeof value !== "object") return JSON.stringify(value);
    if (Array.isArray(value)) return "[" + value.map(canonical).join(",") + "]";
    return "{" + Object.keys(value).sort().map((k) => JSON.stringify(k) + ":" + canonical(value[k])).join(",") + "}";
  }
  const moment = (at) => Date.parse(String(at).replace(/(\.\d{3})\d+/, "$1"));
  function hex(bytes) { return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join(""); }
  async function sha256(bytes) { return new Uint8Array(await crypto.subtle.digest("SHA-256", bytes)); }
  const leafHash = (leaf) => sha256(concat(Uint8Array.of(0), leaf));
  const nodeHash = (l, r) => sha256(concat(Uint8Array.of(1), l, r));
  async function json(path) {
    const response = await fetch(path, { credentials: "omit" });
    if (!response.ok) throw new Error(path + ": HTTP " + response.status);
    return response.json();
  }

  // C2SP signed-note: "<name>+<hex key id>+<base64(0x01 || key)>"
  async function verifierKey(vkey) {
    // The name has no "+"; the base64 key may.
    const first = vkey.indexOf("+"), second = vkey.indexOf("+", first + 1);
    const name = vkey.slice(0, first), id = vkey.slice(first + 1, second), key64 = vkey.slice(second + 1);
    const raw = b64(key64);
    if (raw[0] !== 1 || raw.length !== 33) throw new Error(t("BadServerKey"));
    const expected = (await sha256(concat(enc.encode(name), Uint8Array.of(10), raw))).slice(0, 4);
    if (hex(expected) !== id) throw new Error(t("BadServerKey"));
    const key = await crypto.subtle.importKey("raw", raw.slice(1), { name: "Ed25519" }, false, ["verify"]);
    return { name, id, key, raw: raw.slice(1) };
  }

  async function openCheckpoint(signed, server) {
    const split = signed.lastIndexOf("\n\n");
    if (split < 0) throw new Error(t("NotSigned"));
    const text = signed.slice(0, split + 1);
    let verified = false;
    for (const line of signed.slice(split + 2).split("\n")) {
      if (!line.startsWith("\u2014 ")) continue;
      const [name, sig64] = line.slice(2).split(" ");
      const raw = b64(sig64);
      if (name !== server.name || hex(raw.slice(0, 4)) !== server.id) continue;
      verified = await crypto.subtle.verify({ name: "Ed25519" }, server.key, raw.slice(4), enc.encode(text));
      if (!verified) throw new Error(t("BadCheckpointSignature"));
    }
    if (!verified) throw new Error(t("NotSigned"));
    const [origin, size, root] = text.slice(0, -1).split("\n");
    return { origin, size: Number(size), root: b64(root), note: signed };
  }

  async function verifyConsistency(first, second, proof, firstRoot, secondRoot) {
    // RFC 9162, section 2.1.4.2
    if (first === second) return proof.length === 0 && equal(firstRoot, secondRoot);
    if (first === 0) return proof.length === 0;
    if ((first & (first - 1)) === 0) proof = [firstRoot, ...proof];
    let fn = first - 1, sn = second - 1;
    while (fn & 1) { fn >>= 1; sn >>= 1; }
    let fr = proof[0], sr = proof[0];
    for (const c of proof.slice(1)) {
      if (sn === 0) return false;
      if ((fn & 1) || fn === sn) {
        fr = await nodeHash(c, fr);
        sr = await nodeHash(c, sr);
        if (!(fn & 1)) while (!(fn & 1) && fn !== 0) { fn >>= 1; sn >>= 1; }
      } else {
        sr = await nodeHash(sr, c);
      }
      fn >>= 1; sn >>= 1;
    }
    return sn === 0 && equal(fr, firstRoot) && equal(sr, secondRoot);
  }

  // The entries only a member's own signed act writes: one of them by a member without a signature was written
  // without the member's key. The same list as MEMBER_ACTS in councils/record/signatures.py (a test keeps them equal).
  const MEMBER_ACTS = new Set([
    "ballot.cast", "ballot.changed", "voter.registered", "comment.added", "minority_report.attached",
    "content.reported", "petition.signed", "petition.opened", "recall.signed", "recall.petition_opened",
    "member.left", "federation_ballot.free", "federation_ballot.minutes", "amendment.accepted",
    "proposal.withdrawn", "proposal.rescheduled", "council.founded", "key.registered",
    "capability.recorded", "capability.removed", "working_hours.recorded", "draft_need.changed", "draft_need.removed",
    "hand_proposal.submitted",
  ]);
  const WINDOW = 10 * 60 * 1000;  // a statement's time is within ten minutes of its entry's
  function pair(value) {
    return value && typeof value.statement === "string" && typeof value.signature === "string" ? value : null;
  }
  const dataOf = (entry) => (entry.data && typeof entry.data === "object" ? entry.data : {});

  // A chain's entries, checked against its checkpoint: each linked to the one before, all making the signed root.
  // ``visit(entry)`` sees each entry as it is read.
  async function readChain(name, server, visit, progress) {
    const response = await fetch("/api/record/" + name + "/checkpoint", { credentials: "omit" });
    if (!response.ok) throw new Error("/api/record/" + name + "/checkpoint: HTTP " + response.status);
    const checkpoint = await openCheckpoint(await response.text(), server);
    if (!checkpoint.origin.endsWith("/" + name)) throw new Error(t("OtherChain"));
    const stack = [];
    let previous = null;
    for (let start = 0; start < checkpoint.size; start += 1000) {
      const end = Math.min(start + 1000, checkpoint.size);
      const page = await json(`/api/record/${name}/leaves?start=${start}&end=${end}`);
      for (const text of page.leaves) {
        const leaf = b64(text);
        const entry = JSON.parse(new TextDecoder().decode(leaf));
        if (entry.chain !== name || (previous && (entry.seq !== previous.seq + 1 || entry.prev_hash !== previous.hash))) {
          throw new Error(t("Unlinked", { seq: entry.seq }));
        }
        previous = entry;
        visit(entry);
        let node = { hash: await leafHash(leaf), size: 1 };
        while (stack.length && stack[stack.length - 1].size === node.size) {
          const left = stack.pop();
          node = { hash: await nodeHash(left.hash, node.hash), size: node.size * 2 };
        }
        stack.push(node);
      }
      if (progress) progress(end, checkpoint.size);
    }
    let root = stack.length ? stack[stack.length - 1].hash : await sha256(new Uint8Array());
    for (let i = stack.length - 2; i >= 0; i--) root = await nodeHash(stack[i].hash, root);
    if (!equal(root, checkpoint.root)) throw new Error(t("BadRoot", { chain: name }));
    return checkpoint;
  }

  function parseStatement(signed, seq) {
    let statement = null;
    try { statement = JSON.parse(signed.statement); } catch (error) { statement = null; }
    if (!statement || statement.type !== FORMAT || typeof statement.key !== "string" || canonical(statement) !== signed.statement) {
      throw new Error(t("BadStatement", { seq }));
    }
    return statement;
  }
  async function verifies(key, signed) {
    let signature;
    try { signature = b64url(signed.signature); } catch (error) { return false; }
    return signature.length === 64 && crypto.subtle.verify({ name: "Ed25519" }, key, signature, enc.encode(signed.statement));
  }

  // The members' keys, from their own chains (each checked against its checkpoint), until every key wanted is found.
  async function memberKeys(listing, server, wanted) {
    const keys = new Map();
    const chains = listing.chains.filter((c) => c.name.startsWith("member/"));
    let read = 0;
    for (const chain of chains) {
      if ([...wanted].every((id) => keys.has(id))) break;
      const registrations = [], revocations = [];
      await readChain(chain.name, server, (entry) => {
        const state = dataOf(entry).state || {};
        if (entry.kind === "key.registered") registrations.push({ entry, state });
        else if (entry.kind === "key.revoked") revocations.push({ entry, state });
      });
      for (const { entry, state } of registrations) {
        const raw = b64url(state.public_key);
        if (raw.length !== 32 || hex((await sha256(raw)).slice(0, 16)) !== state.key_id) throw new Error(t("BadRegistration", { chain: chain.name }));
        const key = await crypto.subtle.importKey("raw", raw, { name: "Ed25519" }, false, ["verify"]);
        const signed = pair(dataOf(entry).signed);  // proof of possession: the key signed its own registration
        if (signed && !(await verifies(key, signed))) throw new Error(t("BadRegistration", { chain: chain.name }));
        if (keys.has(state.key_id)) throw new Error(t("BadRegistration", { chain: chain.name }));
        keys.set(state.key_id, { key, member: entry.actor || "", held: !!state.held_by_server,
                                 registeredAt: entry.at, revokedAt: null });
      }
      for (const { entry, state } of revocations) {
        const found = keys.get(state.key_id);
        if (found && found.revokedAt === null) found.revokedAt = entry.at;
      }
      read += 1;
      say(t("ReadingKeys", { done: read, count: chains.length }));
    }
    return keys;
  }

  // An act of the rules: signed by the server, naming the rule, the chain's head before it and what it wrote.
  async function ruleContent(entry) {
    const body = Object.assign({}, dataOf(entry));
    delete body.server_signed;
    const content = { rule: entry.kind, after: entry.prev_hash, data_sha256: hex(await sha256(enc.encode(canonical(body)))) };
    if (Number.isInteger(body.decision)) content.decision = body.decision;
    return canonical(content);
  }

  async function checkSignatures(listing, server, acts, rules) {
    const serverKeyId = hex((await sha256(server.raw)).slice(0, 16));
    const wanted = new Set();
    for (const act of acts) {
      act.statement = parseStatement(act.signed, act.seq);
      wanted.add(act.statement.key);
    }
    const keys = wanted.size ? await memberKeys(listing, server, wanted) : new Map();
    const counts = { members: 0, held: 0, rules: 0 };
    const jobs = acts.map((act) => async () => {
      const id = act.statement.key;
      const found = keys.get(id);
      // Entry times are stamped in one format (UTC, microseconds), so they compare as text, as the server's check does.
      if (!found || found.member !== act.actor || act.at < found.registeredAt) {
        throw new Error(t("UnknownKey", { seq: act.seq, key: id, member: act.actor || "?" }));
      }
      if (found.revokedAt !== null && act.at >= found.revokedAt) throw new Error(t("RevokedKey", { seq: act.seq, key: id }));
      if (!(Math.abs(moment(act.at) - moment(act.statement.at)) <= WINDOW)) throw new Error(t("BadStatement", { seq: act.seq }));
      if (!(await verifies(found.key, act.signed))) throw new Error(t("BadSignature", { seq: act.seq }));
      counts.members += 1;
      if (found.held) counts.held += 1;
    });
    for (const rule of rules) {
      jobs.push(async () => {
        const statement = parseStatement(rule.signed, rule.entry.seq);
        const content = statement.content === undefined ? null : canonical(statement.content);
        if (statement.key !== serverKeyId || statement.act !== "rule." + rule.entry.kind ||
            statement.object !== rule.entry.subject || content !== (await ruleContent(rule.entry))) {
          throw new Error(t("BadRule", { seq: rule.entry.seq }));
        }
        if (!(await verifies(server.key, rule.signed))) throw new Error(t("BadRule", { seq: rule.entry.seq }));
        counts.rules += 1;
      });
    }
    for (let i = 0; i < jobs.length; i += 200) {
      await Promise.all(jobs.slice(i, i + 200).map((job) => job()));
      say(t("CheckingSignatures", { done: Math.min(i + 200, jobs.length), count: jobs.length }));
    }
    return counts;
  }

  async function run() {
    button.disabled = true;
    try {
      if (!window.crypto || !crypto.subtle) throw new Error(t("NoWebCrypto"));
      say(t("Checking"));
      const listing = await json("/api/record/");
      const server = await verifierKey(listing.vkey);
      // Every leaf, against the signed root; every entry linked to the one before; the signed acts kept aside.
      const acts = [], rules = [];
      const checkpoint = await readChain(chain, server, (entry) => {
        const data = dataOf(entry);
        const signed = pair(data.signed);
        if (signed) acts.push({ seq: entry.seq, actor: entry.actor, at: entry.at, signed });
        else if (entry.actor && MEMBER_ACTS.has(entry.kind)) throw new Error(t("Unsigned", { seq: entry.seq, kind: entry.kind, member: entry.actor }));
        if (data.server_signed !== undefined) {
          const rule = pair(data.server_signed);
          if (!rule) throw new Error(t("BadRule", { seq: entry.seq }));
          rules.push({ entry, signed: rule });
        }
      }, (done, size) => say(t("Progress", { done, size })));
      // Consistency with what this browser saw before.
      const memory = "councils-checkpoint:" + checkpoint.origin;
      const before = JSON.parse(localStorage.getItem(memory) || "null");
      let history = t("Fresh");
      if (before) {
        const beforeRoot = b64(before.root);
        if (before.size > checkpoint.size) throw new Error(t("Shrank", { before: before.size, size: checkpoint.size }));
        if (before.size === checkpoint.size && !equal(beforeRoot, checkpoint.root)) throw new Error(t("Fork"));
        if (before.size < checkpoint.size && before.size > 0) {
          const proof = await json(`/api/record/${chain}/proof/consistency?first=${before.size}&second=${checkpoint.size}`);
          if (!(await verifyConsistency(before.size, checkpoint.size, proof.hashes.map(b64), beforeRoot, checkpoint.root))) {
            throw new Error(t("Rewritten", { before: before.size }));
          }
        }
        history = t("Extends", { before: before.size });
      }
      // The members' signatures, with the keys they registered.
      const counts = await checkSignatures(listing, server, acts, rules);
      localStorage.setItem(memory, JSON.stringify({ size: checkpoint.size, root: btoa(String.fromCharCode(...checkpoint.root)) }));
      const parts = [t("Verified", { size: checkpoint.size, server: server.name }), history];
      if (counts.members) {
        parts.push(t(counts.members === 1 ? "SignaturesOne" : "Signatures", { count: counts.members }));
        if (counts.held) parts.push(t("Held", { count: counts.held }));
      } else {
        parts.push(t("NoSignatures"));
      }
      if (counts.rules) parts.push(t("RulesSigned", { count: counts.rules }));
      say(parts.join(" "), true);
    } catch (error) {
      say(t("NotVerified", { reason: error.message }), false);
    } finally {
      button.disabled = false;
    }
  }
  button.addEventListener("click", run);
})();
