// The record checked in the reader's own browser, without taking the server's word for anything:
// the checkpoint's Ed25519 signature by the server's key (WebCrypto), every leaf against the signed
// Merkle root (RFC 9162), the entries' links, and consistency with the last checkpoint this browser
// saw of the chain (kept in localStorage): a rewritten, truncated or forked history is reported.
(function () {
  "use strict";
  const button = document.querySelector("[data-verify-chain]");
  if (!button) return;
  const out = document.getElementById(button.getAttribute("aria-controls"));
  const chain = button.dataset.verifyChain;
  const enc = new TextEncoder();
  // The words in the reader's language, from Django's JavaScript catalogue (loaded before this script); English
  // without it.
  const _ = window.gettext || function (text) { return text; };
  function fill(text, values) { return text.replace(/%\((\w+)\)s/g, function (all, name) { return String(values[name]); }); }

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
    if (raw[0] !== 1 || raw.length !== 33) throw new Error(_("the server key is not an Ed25519 note key"));
    const expected = (await sha256(concat(enc.encode(name), Uint8Array.of(10), raw))).slice(0, 4);
    if (hex(expected) !== id) throw new Error(_("the server key's id does not match the key"));
    const key = await crypto.subtle.importKey("raw", raw.slice(1), { name: "Ed25519" }, false, ["verify"]);
    return { name, id, key };
  }

  async function openCheckpoint(signed, server) {
    const split = signed.lastIndexOf("\n\n");
    if (split < 0) throw new Error(_("the checkpoint is not a signed note"));
    const text = signed.slice(0, split + 1);
    let verified = false;
    for (const line of signed.slice(split + 2).split("\n")) {
      if (!line.startsWith("\u2014 ")) continue;
      const [name, sig64] = line.slice(2).split(" ");
      const raw = b64(sig64);
      if (name !== server.name || hex(raw.slice(0, 4)) !== server.id) continue;
      verified = await crypto.subtle.verify({ name: "Ed25519" }, server.key, raw.slice(4), enc.encode(text));
      if (!verified) throw new Error(_("the server's signature on the checkpoint does not verify"));
    }
    if (!verified) throw new Error(_("the checkpoint is not signed by the server's key"));
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

  async function run() {
    button.disabled = true;
    try {
      if (!window.crypto || !crypto.subtle) throw new Error(_("this browser has no WebCrypto"));
      say(_("Checking…"));
      const listing = await json("/api/record/");
      const server = await verifierKey(listing.vkey);
      const checkpoint = await openCheckpoint(
        await (await fetch("/api/record/" + chain + "/checkpoint", { credentials: "omit" })).text(), server);
      if (!checkpoint.origin.endsWith("/" + chain)) throw new Error(_("the checkpoint is for another chain"));
      // Every leaf, against the signed root; every entry linked to the one before.
      const stack = [];
      let previous = null;
      for (let start = 0; start < checkpoint.size; start += 1000) {
        const end = Math.min(start + 1000, checkpoint.size);
        const page = await json(`/api/record/${chain}/leaves?start=${start}&end=${end}`);
        for (const text of page.leaves) {
          const leaf = b64(text);
          const entry = JSON.parse(new TextDecoder().decode(leaf));
          if (entry.chain !== chain || (previous && (entry.seq !== previous.seq + 1 || entry.prev_hash !== previous.hash))) {
            throw new Error(fill(_("entry #%(seq)s does not follow the entry before it"), { seq: entry.seq }));
          }
          previous = entry;
          let node = { hash: await leafHash(leaf), size: 1 };
          while (stack.length && stack[stack.length - 1].size === node.size) {
            const left = stack.pop();
            node = { hash: await nodeHash(left.hash, node.hash), size: node.size * 2 };
          }
          stack.push(node);
        }
        say(fill(_("Checking… %(done)s of %(size)s entries"), { done: end, size: checkpoint.size }));
      }
      let root = stack.length ? stack[stack.length - 1].hash : await sha256(new Uint8Array());
      for (let i = stack.length - 2; i >= 0; i--) root = await nodeHash(stack[i].hash, root);
      if (!equal(root, checkpoint.root)) throw new Error(_("the entries do not make the root the server signed"));
      // Consistency with what this browser saw before.
      const memory = "councils-checkpoint:" + checkpoint.origin;
      const before = JSON.parse(localStorage.getItem(memory) || "null");
      let history = _("This browser had not seen this chain before.");
      if (before) {
        const beforeRoot = b64(before.root);
        if (before.size > checkpoint.size) throw new Error(fill(_("the chain shrank from %(before)s to %(size)s entries since this browser last saw it"), { before: before.size, size: checkpoint.size }));
        if (before.size === checkpoint.size && !equal(beforeRoot, checkpoint.root)) throw new Error(_("a different history of the same length was signed: a fork"));
        if (before.size < checkpoint.size && before.size > 0) {
          const proof = await json(`/api/record/${chain}/proof/consistency?first=${before.size}&second=${checkpoint.size}`);
          if (!(await verifyConsistency(before.size, checkpoint.size, proof.hashes.map(b64), beforeRoot, checkpoint.root))) {
            throw new Error(fill(_("the chain is not an extension of the %(before)s entries this browser saw before: its history was rewritten"), { before: before.size }));
          }
        }
        history = fill(_("It extends the %(before)s entries this browser saw before."), { before: before.size });
      }
      localStorage.setItem(memory, JSON.stringify({ size: checkpoint.size, root: btoa(String.fromCharCode(...checkpoint.root)) }));
      say(fill(_("Verified in this browser: %(size)s entries; the checkpoint is signed by %(server)s; every entry is in the signed tree and linked to the one before."), { size: checkpoint.size, server: server.name }) +
          " " + history + " " + _("Acts are not yet signed by the members themselves, so no member signature was checked."), true);
    } catch (error) {
      say(_("Not verified:") + " " + error.message, false);
    } finally {
      button.disabled = false;
    }
  }
  button.addEventListener("click", run);
})();
