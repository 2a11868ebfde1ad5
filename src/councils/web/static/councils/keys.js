// A member's own Ed25519 key in this browser, and the acts it signs (docs/record.md, "Keys in the browser").
//
// The key is made with WebCrypto and kept in IndexedDB as a non-extractable CryptoKey: no script, this one
// included, can read its private half back. Its backup is made once, at creation: the key is generated
// extractable, its PKCS #8 bytes are encrypted with the member's passphrase (PBKDF2-SHA256, 600,000
// iterations, then AES-GCM) into a JSON file the member downloads, and the key is imported again
// non-extractable; the extractable copy is dropped. The file and its passphrase restore the key on another
// device. Forms of member acts (data-councils-sign) are signed with it through the server's 428 flow.
//
// Every word shown comes from the page (the element #councils-keys, translated by the template).
(function () {
  "use strict";
  const config = document.getElementById("councils-keys");
  if (!config) return;
  const user = config.dataset.user;
  const FORMAT = "councils.statement/v1";
  const BACKUP = "councils.key-backup/v1";
  const ITERATIONS = 600000;
  const MAX_ITERATIONS = 10000000;
  const enc = new TextEncoder();
  const capable = !!(window.crypto && crypto.subtle && window.indexedDB);

  // ---- words ------------------------------------------------------------------------------------
  function t(name, values) {
    let text = config.dataset["t" + name] || name;
    for (const [key, value] of Object.entries(values || {})) text = text.split("{" + key + "}").join(String(value));
    return text;
  }

  // ---- encodings --------------------------------------------------------------------------------
  function b64url(bytes) {
    bytes = new Uint8Array(bytes);
    let raw = "";
    for (let i = 0; i < bytes.length; i++) raw += String.fromCharCode(bytes[i]);
    return btoa(raw).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }
  function unb64url(text) {
    if (typeof text !== "string" || !/^[A-Za-z0-9_-]*$/.test(text)) throw new Error(t("BadFile"));
    const raw = atob(text.replace(/-/g, "+").replace(/_/g, "/") + "===".slice((text.length + 3) % 4));
    const bytes = new Uint8Array(raw.length);
    for (let i = 0; i < raw.length; i++) bytes[i] = raw.charCodeAt(i);
    return bytes;
  }
  function hex(bytes) { return Array.from(new Uint8Array(bytes), (b) => b.toString(16).padStart(2, "0")).join(""); }
  async function keyIdOf(raw) { return hex(new Uint8Array(await crypto.subtle.digest("SHA-256", raw)).slice(0, 16)); }

  // RFC 8785 for what statements hold (strings, integers, booleans, null, arrays, objects): keys sorted by
  // UTF-16 code units (JavaScript's own string order), values written as JSON.stringify writes them.
  function canonical(value) {
    if (value === null || typeof value !== "object") {
      if (typeof value === "number" && !Number.isFinite(value)) throw new Error("not JSON");
      return JSON.stringify(value);
    }
    if (Array.isArray(value)) return "[" + value.map(canonical).join(",") + "]";
    return "{" + Object.keys(value).sort().map((k) => JSON.stringify(k) + ":" + canonical(value[k])).join(",") + "}";
  }
  // A statement's time: UTC with microseconds, as the server writes it.
  // A clock more than a minute off the server's (its Date header) is corrected: the server accepts statements
  // within ten minutes of its own time.
  let skew = 0;
  function now() { return new Date(Date.now() + skew).toISOString().replace(/Z$/, "000Z"); }
  function learnTime(response) {
    const said = Date.parse(response.headers.get("Date") || "");
    if (!Number.isNaN(said) && Math.abs(said - Date.now()) > 60000) skew = said - Date.now();
  }

  // ---- IndexedDB: one key per member of this site in this browser ---------------------------------
  function database() {
    return new Promise((resolve, reject) => {
      const request = indexedDB.open("councils-keys", 1);
      request.onupgradeneeded = () => request.result.createObjectStore("keys", { keyPath: "user" });
      request.onsuccess = () => resolve(request.result);
      request.onerror = () => reject(request.error);
    });
  }
  async function withStore(mode, action) {
    const db = await database();
    return new Promise((resolve, reject) => {
      const tx = db.transaction("keys", mode);
      const request = action(tx.objectStore("keys"));
      tx.oncomplete = () => { db.close(); resolve(request.result); };
      tx.onerror = tx.onabort = () => { db.close(); reject(tx.error); };
    });
  }
  const loadKey = () => (capable ? withStore("readonly", (s) => s.get(user)) : Promise.resolve(undefined));
  const saveKey = (record) => withStore("readwrite", (s) => s.put(record));
  const forgetKey = () => withStore("readwrite", (s) => s.delete(user));

  async function sign(record, text) {
    return b64url(await crypto.subtle.sign({ name: "Ed25519" }, record.privateKey, enc.encode(text)));
  }

  // ---- the server's keys API (session and CSRF token) ---------------------------------------------
  async function api(method, path, body) {
    const response = await fetch(path, {
      method, credentials: "same-origin",
      headers: { "Content-Type": "application/json", "Accept": "application/json", "X-CSRFToken": config.dataset.csrf },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    learnTime(response);
    let answer = null;
    try { answer = await response.json(); } catch (error) { answer = null; }
    if (!response.ok) {
      const detail = answer && (answer.detail || (answer.errors && answer.errors.map((e) => e.detail || e.msg).join(" ")));
      throw new Error(detail || t("ServerSaid", { status: response.status }));
    }
    return answer;
  }
  async function serverKeys() {
    const answer = await api("GET", config.dataset.api);
    return Array.isArray(answer) ? answer : (answer && (answer.keys || answer.items)) || [];
  }
  async function register(record) {
    const content = { label: record.label, public_key: record.publicKey };
    const statement = canonical({ type: FORMAT, act: "key.register", council: config.dataset.registerCouncil || "-",
                                  object: "key:" + record.keyId, at: now(), key: record.keyId, content });
    return api("POST", config.dataset.api, { public_key: record.publicKey, label: record.label, statement,
                                             signature: await sign(record, statement) });
  }

  // ---- backup: PBKDF2-SHA256 + AES-GCM over the PKCS #8 bytes -----------------------------------------
  async function wrappingKey(passphrase, salt, iterations, use) {
    const material = await crypto.subtle.importKey("raw", enc.encode(passphrase.normalize("NFC")), "PBKDF2", false, ["deriveKey"]);
    return crypto.subtle.deriveKey({ name: "PBKDF2", hash: "SHA-256", salt, iterations }, material,
                                   { name: "AES-GCM", length: 256 }, false, [use]);
  }
  // Everything but the ciphertext is bound to it (AES-GCM's additional data): a file whose key ID, public key
  // or parameters were changed does not open.
  function header(file) {
    const copy = Object.assign({}, file);
    delete copy.ciphertext;
    return enc.encode(canonical(copy));
  }
  async function makeBackup(pkcs8, record, passphrase) {
    const salt = crypto.getRandomValues(new Uint8Array(16));
    const iv = crypto.getRandomValues(new Uint8Array(12));
    const file = {
      type: BACKUP, server: location.origin, user, key_id: record.keyId, public_key: record.publicKey,
      label: record.label, created_at: record.createdAt,
      kdf: { name: "PBKDF2", hash: "SHA-256", iterations: ITERATIONS, salt: b64url(salt) },
      cipher: { name: "AES-GCM", iv: b64url(iv) },
    };
    const key = await wrappingKey(passphrase, salt, ITERATIONS, "encrypt");
    file.ciphertext = b64url(await crypto.subtle.encrypt({ name: "AES-GCM", iv, additionalData: header(file) }, key, pkcs8));
    return file;
  }
  async function openBackup(file, passphrase) {
    if (!file || file.type !== BACKUP || !file.kdf || !file.cipher || file.kdf.name !== "PBKDF2" ||
        file.kdf.hash !== "SHA-256" || file.cipher.name !== "AES-GCM" || typeof file.public_key !== "string") {
      throw new Error(t("BadFile"));
    }
    const iterations = file.kdf.iterations;
    if (!Number.isInteger(iterations) || iterations < ITERATIONS || iterations > MAX_ITERATIONS) throw new Error(t("BadFile"));
    if (file.user !== user) throw new Error(t("OtherMember", { user: String(file.user) }));
    const raw = unb64url(file.public_key);
    if (raw.length !== 32 || (await keyIdOf(raw)) !== file.key_id) throw new Error(t("BadFile"));
    const key = await wrappingKey(passphrase, unb64url(file.kdf.salt), iterations, "decrypt");
    let pkcs8;
    try {
      pkcs8 = new Uint8Array(await crypto.subtle.decrypt({ name: "AES-GCM", iv: unb64url(file.cipher.iv), additionalData: header(file) },
                                                         key, unb64url(file.ciphertext)));
    } catch (error) {
      throw new Error(t("WrongPassphrase"));
    }
    const privateKey = await crypto.subtle.importKey("pkcs8", pkcs8, { name: "Ed25519" }, false, ["sign"]);
    pkcs8.fill(0);
    // The private key must be the half of the public key the file names.
    const publicKey = await crypto.subtle.importKey("raw", raw, { name: "Ed25519" }, false, ["verify"]);
    const probe = enc.encode("councils key check " + file.key_id);
    const signature = await crypto.subtle.sign({ name: "Ed25519" }, privateKey, probe);
    if (!(await crypto.subtle.verify({ name: "Ed25519" }, publicKey, signature, probe))) throw new Error(t("BadFile"));
    return { user, keyId: file.key_id, publicKey: file.public_key, label: String(file.label || ""),
             createdAt: String(file.created_at || ""), privateKey };
  }
  function download(file) {
    const blob = new Blob([JSON.stringify(file, null, 2) + "\n"], { type: "application/json" });
    const link = document.createElement("a");
    link.href = URL.createObjectURL(blob);
    link.download = `councils-key-${user}-${file.key_id.slice(0, 8)}.json`;
    document.body.appendChild(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(link.href), 60000);
  }

  async function makeKey(label, passphrase) {
    const pair = await crypto.subtle.generateKey({ name: "Ed25519" }, true, ["sign", "verify"]);
    const raw = new Uint8Array(await crypto.subtle.exportKey("raw", pair.publicKey));
    const pkcs8 = new Uint8Array(await crypto.subtle.exportKey("pkcs8", pair.privateKey));
    const record = { user, keyId: await keyIdOf(raw), publicKey: b64url(raw), label, createdAt: new Date().toISOString() };
    const backup = await makeBackup(pkcs8, record, passphrase);
    record.privateKey = await crypto.subtle.importKey("pkcs8", pkcs8, { name: "Ed25519" }, false, ["sign"]);
    pkcs8.fill(0);
    await saveKey(record);
    return { record, backup };
  }

  // ---- the "Your keys" page ------------------------------------------------------------------------
  const section = document.getElementById("browser-key");
  if (section) keysPage(section);

  function keysPage(section) {
    const $ = (selector) => section.querySelector(selector);
    const status = $("[data-browser-key-status]");
    const state = $("[data-browser-key-state]");
    const held = $("[data-browser-key-held]");
    const makeForm = $("[data-browser-key-make]");
    const restoreForm = $("[data-browser-key-restore]");
    const registerButton = $("[data-browser-key-register]");
    function say(text, ok) {
      status.textContent = text;
      status.className = ok === true ? "notice ok" : ok === false ? "errors" : text ? "notice" : "";
    }
    if (!capable) {
      state.textContent = t("NoWebCrypto");
      return;
    }
    for (const form of [makeForm, restoreForm]) form.hidden = false;

    // The page's list of registered keys (rendered by the server) as it is now.
    async function refreshList() {
      const list = document.querySelector('section[aria-labelledby="keys-h"]');
      if (!list) return;
      try {
        const response = await fetch(window.location.href, { credentials: "same-origin" });
        const fresh = new DOMParser().parseFromString(await response.text(), "text/html")
          .querySelector('section[aria-labelledby="keys-h"]');
        if (response.ok && fresh) list.replaceWith(document.importNode(fresh, true));
      } catch (error) { /* the list stays as it was; a reload shows it */ }
    }
    async function show(initial) {
      if (!initial) refreshList();
      const record = await loadKey();
      held.hidden = !record;
      registerButton.hidden = true;
      if (!record) {
        state.textContent = t("NoneHere");
        return record;
      }
      let where = t("StateUnknown");
      try {
        const found = (await serverKeys()).find((k) => k.key_id === record.keyId);
        if (!found) { where = t("StateUnregistered"); registerButton.hidden = false; }
        else if (found.revoked_at) where = t("StateRevoked");
        else where = t("StateActive");
      } catch (error) { where = t("StateUnknown"); }
      state.textContent = t("Held", { key: record.keyId, label: record.label || "" }) + " " + where;
      state.dataset.keyId = record.keyId;
      return record;
    }
    async function busy(button, work) {
      const buttons = section.querySelectorAll("button");
      buttons.forEach((b) => { b.disabled = true; });
      try { await work(); } catch (error) { say(error.message || String(error), false); }
      finally { buttons.forEach((b) => { b.disabled = false; }); }
    }

    makeForm.addEventListener("submit", (event) => {
      event.preventDefault();
      const label = makeForm.elements.label.value.trim();
      const passphrase = makeForm.elements.passphrase.value;
      if (passphrase !== makeForm.elements.passphrase2.value) { say(t("Mismatch"), false); makeForm.elements.passphrase2.focus(); return; }
      busy(makeForm, async () => {
        if ((await loadKey()) && !window.confirm(t("ReplaceConfirm"))) return;
        say(t("Making"));
        const { record, backup } = await makeKey(label, passphrase);
        download(backup);
        makeForm.reset();
        try {
          await register(record);
        } catch (error) {
          await show();
          say(t("MadeNotRegistered", { reason: error.message }), false);
          return;
        }
        await show();
        say(t("Made", { key: record.keyId }), true);
      });
    });

    restoreForm.addEventListener("submit", (event) => {
      event.preventDefault();
      const chosen = restoreForm.elements.backup.files[0];
      const passphrase = restoreForm.elements.passphrase.value;
      if (!chosen) return;
      busy(restoreForm, async () => {
        say(t("Restoring"));
        let file;
        try { file = JSON.parse(await chosen.text()); } catch (error) { throw new Error(t("BadFile")); }
        const record = await openBackup(file, passphrase);
        const found = (await serverKeys()).find((k) => k.key_id === record.keyId);
        if (found && found.revoked_at) throw new Error(t("RestoreRevoked"));
        if ((await loadKey()) && !window.confirm(t("ReplaceConfirm"))) return;
        await saveKey(record);
        restoreForm.reset();
        if (!found) await register(record);
        await show();
        say(t("Restored", { key: record.keyId }), true);
      });
    });

    registerButton.addEventListener("click", () => busy(registerButton, async () => {
      const record = await loadKey();
      if (!record) return;
      await register(record);
      await show();
      say(t("Registered", { key: record.keyId }), true);
    }));

    $("[data-browser-key-forget]").addEventListener("click", (event) => busy(event.target, async () => {
      if (!window.confirm(t("ForgetConfirm"))) return;
      await forgetKey();
      await show();
      say(t("Forgotten"), true);
    }));

    $("[data-browser-key-revoke]").addEventListener("click", (event) => busy(event.target, async () => {
      const record = await loadKey();
      if (!record || !window.confirm(t("RevokeConfirm"))) return;
      await api("POST", `${config.dataset.api}/${record.keyId}/revoke`, {});
      await forgetKey();
      await show();
      say(t("Revoked", { key: record.keyId }), true);
    }));

    show(true).catch((error) => say(error.message, false));
  }

  // ---- signing the forms of member acts ------------------------------------------------------------
  const forms = Array.from(document.querySelectorAll("form[data-councils-sign]"));
  if (!forms.length) return;
  const held = loadKey().catch(() => undefined);

  function statusOf(form) {
    let out = form.querySelector("[data-councils-sign-status]");
    if (!out) {
      out = document.createElement("p");
      out.setAttribute("data-councils-sign-status", "");
      out.setAttribute("role", "status");
      form.appendChild(out);
    }
    return out;
  }
  function hidden(form, name, value) {
    let input = form.querySelector(`input[type=hidden][name="${name}"]`);
    if (!input) {
      input = document.createElement("input");
      input.type = "hidden";
      input.name = name;
      form.appendChild(input);
    }
    input.value = value;
  }
  function unsign(form) {
    form.querySelectorAll("input[type=hidden][name^=councils_]").forEach((input) => input.remove());
  }
  // The submission that goes through: the browser's own, with the button that was pressed.
  // In a task of its own: called while the first submit event is still being dispatched (no key: nothing was
  // awaited), requestSubmit would be ignored.
  function submitForReal(form, submitter) {
    setTimeout(() => {
      form.dataset.councilsSigning = "done";
      if (submitter && submitter.form === form) form.requestSubmit(submitter);
      else form.requestSubmit();
      delete form.dataset.councilsSigning;  // the browser refused to submit (a field is invalid): sign next time
    }, 0);
  }

  // Say once, above the first form of an act, when this browser holds no key of this member.
  held.then(async (record) => {
    if (record) return;
    let serverSigns = false;
    try { serverSigns = (await serverKeys()).some((k) => k.held_by_server && !k.revoked_at); } catch (error) { serverSigns = false; }
    const notice = document.createElement("p");
    notice.className = "notice";
    notice.setAttribute("data-councils-no-key", "");
    notice.append(t(serverSigns ? "NoKeyServerSigns" : "NoKey") + " ");
    const link = document.createElement("a");
    link.href = config.dataset.keysUrl;
    link.textContent = t("NoKeyLink");
    notice.append(link, ".");
    // Above the first form in sight (some sit in closed <details>).
    const shown = (form) => (form.checkVisibility ? form.checkVisibility() : form.getClientRects().length > 0);
    const first = forms.find(shown) || forms[0];
    first.parentNode.insertBefore(notice, first);
  });

  document.addEventListener("submit", (event) => {
    const form = event.target;
    if (!(form instanceof HTMLFormElement) || !form.hasAttribute("data-councils-sign")) return;
    if (form.dataset.councilsSigning === "done") { delete form.dataset.councilsSigning; return; }
    event.preventDefault();
    if (form.dataset.councilsSigning === "busy") return;  // a second press while the first is signed
    form.dataset.councilsSigning = "busy";
    signAndSubmit(form, event.submitter).catch((error) => {
      delete form.dataset.councilsSigning;
      const out = statusOf(form);
      out.className = "errors";
      out.textContent = t("NotSent", { reason: error.message || String(error) });
    });
  });

  async function signAndSubmit(form, submitter) {
    const record = await held;
    // No key in this browser: the form goes as it is, and the server answers (it signs for a demo member
    // whose key it holds, and refuses an unsigned act of anyone else, saying why).
    unsign(form);
    if (!record) { submitForReal(form, submitter); return; }
    const out = statusOf(form);
    out.className = "notice";
    out.textContent = t("Signing");
    const body = new FormData(form, submitter && submitter.form === form ? submitter : null);
    const action = new URL(form.getAttribute("action") || "", window.location.href);  // form.action may be a field
    const response = await fetch(action, {
      method: "POST", body, credentials: "same-origin",
      headers: { "Councils-Prepare": "1", "Councils-Key": record.keyId, "Accept": "application/json" },
    });
    if (response.status === 428) {
      const answer = await response.json();
      const text = answer.statement;
      let statement;
      try { statement = JSON.parse(text); } catch (error) { statement = null; }
      if (!statement || statement.type !== FORMAT || canonical(statement) !== text) throw new Error(t("BadStatement"));
      if (statement.key !== record.keyId) throw new Error(t("OtherKey"));
      hidden(form, "councils_key", record.keyId);
      hidden(form, "councils_statement", text);
      hidden(form, "councils_signature", await sign(record, text));
      out.className = "notice";
      out.textContent = t("Signed", { act: statement.act, key: record.keyId.slice(0, 8) });
      submitForReal(form, submitter);
      return;
    }
    if (response.redirected) {
      // The server did the act without asking for a signature: show where it led.
      window.location.assign(response.url);
      return;
    }
    const type = response.headers.get("Content-Type") || "";
    if (!response.ok && type.startsWith("application/json")) {
      let answer = null;
      try { answer = await response.json(); } catch (error) { answer = null; }
      throw new Error((answer && answer.detail) || t("ServerSaid", { status: response.status }));
    }
    // Anything else (the form with its errors, a refusal page): the server says it on the real submission.
    out.textContent = "";
    out.className = "";
    submitForReal(form, submitter);
  }
})();
