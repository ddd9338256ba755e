// The meter's password, for the main page and the settings page (served gzipped from
// flash as /pw.js): asked in a small dialog with a masked field, kept in sessionStorage
// for this browser session only; a wrong one and the lockout after too many are said in
// words, and it is asked again. post() sends a command with it (HTTP Basic).
"use strict";
const PW = {
  en: { ask: "The meter's password", hint: "The first one is on the meter's Network screen (the simulator on a computer prints it in its log at start).",
    wrong: "Wrong password: try again.", locked: "Too many wrong passwords: wait %s, then try again.",
    ok: "OK", cancel: "Cancel", new1: "New password (8 characters or more)", new2: "The same again",
    differ: "The two are not the same.", short: "8 characters or more." },
  fr: { ask: "Le mot de passe du compteur", hint: "Le premier est sur l'écran Réseau du compteur (le simulateur sur un ordinateur l'écrit dans son journal au démarrage).",
    wrong: "Mot de passe erroné : réessayez.", locked: "Trop de mots de passe erronés : attendez %s, puis réessayez.",
    ok: "OK", cancel: "Annuler", new1: "Nouveau mot de passe (8 caractères ou plus)", new2: "Le même, encore une fois",
    differ: "Les deux ne sont pas identiques.", short: "8 caractères ou plus." },
};
const pwT = () => PW[document.documentElement.lang] || PW.en;

// "45 s", "2 min 5 s" (as the page says durations)
function pwWait(s) {
  return s >= 60 ? Math.floor(s / 60) + " min" + (s % 60 ? " " + (s % 60) + " s" : "") : s + " s";
}

// The dialog: resolves to the password typed (twice when `fresh`: a new one), or null.
function askPw(note, fresh) {
  const T = pwT();
  let d = document.getElementById("pwd");
  if (d) d.remove();
  d = document.createElement("dialog");
  d.id = "pwd";
  d.innerHTML = '<form method="dialog"><p><label for="pwd_in"></label></p><p><input type="password" id="pwd_in" required></p>' +
    '<p id="pwd_in2p" hidden><label for="pwd_in2"></label><br><input type="password" id="pwd_in2"></p>' +
    '<p id="pwd_note" role="alert" style="color:#b00"></p><p class="muted" id="pwd_hint"></p>' +
    '<p><button value="ok" id="pwd_ok"></button> <button value="" formnovalidate id="pwd_cancel"></button></p></form>';
  document.body.appendChild(d);
  const $p = (id) => d.querySelector("#" + id);
  d.querySelector("label[for=pwd_in]").textContent = fresh ? T.new1 : T.ask;
  d.querySelector("label[for=pwd_in2]").textContent = T.new2;
  $p("pwd_in").autocomplete = fresh ? "new-password" : "current-password";
  $p("pwd_in2p").hidden = !fresh;
  $p("pwd_note").textContent = note || "";
  $p("pwd_hint").textContent = fresh ? "" : T.hint;
  $p("pwd_ok").textContent = T.ok;
  $p("pwd_cancel").textContent = T.cancel;
  return new Promise((done) => {
    d.querySelector("form").onsubmit = (ev) => {
      const a = $p("pwd_in").value, b = $p("pwd_in2").value;
      if (ev.submitter && ev.submitter.value === "ok" && fresh && (a.length < 8 || a !== b)) {
        ev.preventDefault();
        $p("pwd_note").textContent = a.length < 8 ? T.short : T.differ;
      }
    };
    d.onclose = () => { done(d.returnValue === "ok" ? $p("pwd_in").value : null); d.remove(); };
    d.showModal();
  });
}

// A command (POST, a JSON body) with the password; the Response, or null when the user
// gave up. The password is kept for the session once the meter took it.
async function post(path, body) {
  let pw = sessionStorage.getItem("pw"), note = "";
  for (;;) {
    if (!pw) {
      pw = await askPw(note);
      if (pw === null) return null;
    }
    const r = await fetch(path, { method: "POST", body: body, headers: {
      "Content-Type": "application/json", Authorization: "Basic " + btoa("owner:" + unescape(encodeURIComponent(pw))) } });
    if (r.status === 401) {
      note = pwT().wrong;
    } else if (r.status === 429) {  // server.py: "too many wrong passwords: try again in N s"
      const m = /(\d+) s/.exec(await r.text());
      note = pwT().locked.replace("%s", pwWait(m ? +m[1] : 60));
    } else {
      sessionStorage.setItem("pw", pw);
      return r;
    }
    sessionStorage.removeItem("pw");
    pw = null;
  }
}

// The owner's own password: asked twice in the dialog, set with the current one.
async function setPassword() {
  const p = await askPw("", true);
  if (!p) return null;
  const r = await post("/api/password", JSON.stringify({ password: p }));
  if (r && r.ok) sessionStorage.setItem("pw", p);
  return r;
}
