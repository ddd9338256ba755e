// The settings page's script (GET /settings and /settings.js, gzipped on flash: no heap):
// every setting of config.py, grouped as an installer thinks, read from GET /api/config;
// only the changed ones are sent (POST /api/config, the password through pw.js); the
// firmware's validator's message shown next to its field; what waits for a restart said
// (the answer's "restart" list and /api/state's restart_needed) beside the restart
// button; each input's calibration (POST /api/zero, /api/calibrate, /api/phasecal). English and French:
// the meter's lang, or ?lang=en|fr.
"use strict";
const $ = (id) => document.getElementById(id);
const LANG = new URLSearchParams(location.search).get("lang");
const USAGES = ["heating", "cooling", "hot_water", "sockets", "other"];
// config.py _SPEC's bounds (host_tests/test_host_settings.py checks they agree): whole
// numbers, numbers, and the texts' longest
const INT = { mains_hz: [45, 65], period_ms: [100, 60000], window_cycles: [0, 3000], max_gap_ms: [1000, 3600000],
  save_s: [1, 86400], gas_l_per_pulse: [1, 1000], water_l_per_pulse: [1, 1000], pulse_min_ms: [1, 10000],
  utc_offset_min: [-720, 840], screen_home_s: [5, 3600], screen_sleep_s: [0, 86400], contrast: [0, 255],
  http_port: [1, 65535], http_max_clients: [1, 16], mqtt_port: [1, 65535], mqtt_interval_s: [1, 3600],
  capacity_warn_w: [0, 1000000], ct_ratio: [1, 100000], cts: [1, 2], phase: [1, 3], standby_pct: [1, 50] };
const NUM = { voltage: [90, 480], vref_v_per_v: [10, 5000], phase_deg: [-30, 30], price_kwh: [0, 100], gas_kwh_per_m3: [1, 20], gas_price_kwh: [0, 100],
  water_price_m3: [0, 100], burden_ohm: [0.1, 10000], pf: [0.1, 1.0], noise_floor_a: [0, 10] };
const TXT = { currency: 5, ntp_host: 128, mqtt_host: 128, mqtt_user: 64, mqtt_password: 64, mqtt_client_id: 32,
  mqtt_prefix: 64, mqtt_discovery: 64, mqtt_tls_name: 128, hostname: 32, ip: 15, netmask: 15, gateway: 15, dns: 15, http_host: 15, name: 24,
  standby_window: 11 };
const SEL = { lang: ["en", "fr"], dst: ["eu", "none"], grid: ["auto", "tic", "tic_standard", "tic_historic", "p1", "none"],
  usage: USAGES, cts: [1, 2], phase: [1, 2, 3], dhcp: ["dhcp", "static"], mqtt_tls: [false, true],
  ct_flip: [false, true], export: [false, true] };
const INPUT = ["name", "usage", "phase", "ct_ratio", "cts", "burden_ohm", "pf", "noise_floor_a", "export", "ct_flip", "phase_deg"];
const GROUPS = [["tariffs", "currency price_kwh"],
  ["gaswater", "gas_l_per_pulse gas_kwh_per_m3 gas_price_kwh water_l_per_pulse water_price_m3 pulse_min_ms"],
  ["gridm", "grid"], ["network", "hostname dhcp ip netmask gateway dns"],
  ["mqtt", "mqtt_host mqtt_port mqtt_user mqtt_password mqtt_client_id mqtt_prefix mqtt_discovery mqtt_interval_s mqtt_tls mqtt_tls_name capacity_warn_w"],
  ["time", "utc_offset_min dst ntp_host"], ["display", "contrast screen_home_s screen_sleep_s"], ["language", "lang"],
  ["standby", "standby_window standby_pct"],
  ["calib", ""], ["password", ""],
  ["advanced", "voltage vref_v_per_v mains_hz period_ms window_cycles max_gap_ms save_s http_host http_port http_max_clients"]];

const S = {
  en: { title: "Settings", back: "\u2190 Meter", save: "Save changes", saved: "Saved.", nochange: "Nothing changed.",
    refused: "Nothing saved: ", noanswer: "The meter did not answer: ", wait_restart: "Waiting for a restart: ",
    restart: "Restart the meter", restarting: "Restarting\u2026", back_up: "The meter restarted.", later: "Some changes wait for a restart (above).",
    not_back: "The meter has not answered again yet.",
    circuits: "Circuits", tariffs: "Tariffs and prices", gaswater: "Gas and water", gridm: "Grid meter", network: "Network",
    mqtt: "MQTT (Home Assistant)", time: "Time", display: "Display", language: "Language", calib: "Calibration",
    advanced: "Measurement and web server", input: "Input", password: "The meter's password",
    set_pw: "Set a new password", pw_done: "The new password is set.",
    name: "Name", usage: "Usage", phase: "Phase", ct_ratio: "CT ratio (1000 for 90 A : 90 mA)", cts: "CTs on this input (in parallel)",
    burden_ohm: "Burden resistor (\u03a9)", pf: "Power factor", noise_floor_a: "Noise floor (A: below it, 0 W)",
    currency: "Currency", price_kwh: "Price of a kWh (every period not priced below)", period: "Period %d",
    add_period: "Add a period", per_kwh: "price of a kWh",
    gas_l_per_pulse: "Gas: litres per pulse", gas_kwh_per_m3: "Gas: kWh per m\u00b3 (the factor on the gas bill)",
    gas_price_kwh: "Gas: price of a kWh", water_l_per_pulse: "Water: litres per pulse", water_price_m3: "Water: price of a m\u00b3",
    pulse_min_ms: "Shortest time between pulses (ms; closer ones are contact bounce)",
    grid: "Grid-meter port", hostname: "Host name", dhcp: "Address", ip: "IP address", netmask: "Netmask", gateway: "Gateway",
    dns: "DNS server", mqtt_host: "Broker (host name or IP address; empty: no MQTT)", mqtt_port: "Port", mqtt_user: "User",
    mqtt_password: "Password", pw_set: "set: type a new one to change it", pw_unset: "none", pw_none: "No password",
    mqtt_client_id: "Client id (empty: submeter-<board id>)", mqtt_prefix: "Topic prefix",
    mqtt_discovery: "Home Assistant discovery prefix (empty: none)", mqtt_interval_s: "Published every (s)",
    capacity_warn_w: "Capacity tariff: warn from (W; 0: the month's peak)",
    mqtt_tls: "TLS (the broker's CA in mqtt_ca.pem on the meter; port 1883 becomes 8883)",
    o_mqtt_tls: ["Off", "On"], mqtt_tls_name: "Name on the broker's certificate (empty: the broker's)",
    utc_offset_min: "UTC offset (minutes; 60 for Paris, Brussels)", dst: "Summer time", ntp_host: "NTP server (empty: none)",
    contrast: "Contrast (0\u2013255)", screen_home_s: "Back to the home screen after (s)",
    screen_sleep_s: "Display sleeps after (s; 0: never)", lang: "The meter's language (panel and page)",
    voltage: "Nominal voltage (V, while no grid meter reports it)", mains_hz: "Mains frequency (Hz)",
    period_ms: "Measurement round (ms)", window_cycles: "Mains cycles per measurement (0: the whole round)", max_gap_ms: "Longest gap one reading covers (ms)",
    save_s: "Counters saved every (s)", http_host: "Web server address (0.0.0.0: every interface)", http_port: "Web server port",
    http_max_clients: "Web clients at once",
    standby: "Standby (the night-time base load)", standby_window: "Measured each night from-to (HH:MM-HH:MM, local time)",
    standby_pct: "Percentile of its short means (1\u201350; 10: the lowest tenth)",
    o_usage: ["Heating", "Cooling", "Hot water", "Sockets", "Other"], o_dst: ["EU summer time", "None"],
    o_grid: ["Automatic (finds the meter)", "TIC (Linky or older), either mode", "TIC standard mode (Linky)",
      "TIC historic mode", "P1 (Belgium, Netherlands)", "None"], o_dhcp: ["Automatic (DHCP)", "Static"],
    zero: "Zero", zero_hint: "Zero: switch the circuit off first; the input learns its idle noise.",
    cal_hint: "Scale: switch on a load of known power alone on the circuit (a kettle's nameplate, or what a reference meter reads), enter its watts, then Calibrate: the meter measures it and sets the CT ratio.",
    known: "Known load (W)", calibrate: "Calibrate", zeroed: "zeroed", not_zeroed: "not zeroed", zeroing: "zeroing %d %",
    cal_running: "calibrating %d %", cal_done: "calibrated: %s W measured for %s W; CT ratio %s \u2192 %s",
    cal_failed: "calibration failed: %s",
    clock: "The meter's clock: %s (%s)", set_clock: "Set it to this device's time", clock_set: "Set.",
    vref_v_per_v: "Voltage reference: mains V per V at its pin", export: "May give energy back (solar, battery, EV)",
    ct_flip: "CT read the other way round", phase_deg: "CT phase lead (\u00b0)", o_yes: ["No", "Yes"], phcal: "Calibrate phase",
    ph_hint: "Phase: a resistive load (kettle, heater) running on the circuit now, then Calibrate phase (needs the voltage reference).",
    phcal_running: "phase: %d %", phcal_done: "phase: %s\u00b0", phcal_failed: "phase: failed: %s",
    src: { meter: "from the grid meter", ntp: "from NTP", set: "set by hand", rtc: "from the board's clock", none: "not known yet" } },
  fr: { title: "Réglages", back: "\u2190 Compteur", save: "Enregistrer les modifications", saved: "Enregistré.",
    nochange: "Rien n'a changé.", refused: "Rien n'est enregistré : ", noanswer: "Le compteur n'a pas répondu : ",
    wait_restart: "En attente d'un redémarrage : ", restart: "Redémarrer le compteur", restarting: "Redémarrage\u2026",
    back_up: "Le compteur a redémarré.", later: "Certains changements attendent un redémarrage (ci-dessus).",
    not_back: "Le compteur ne répond pas encore.",
    circuits: "Circuits", tariffs: "Tarifs et prix", gaswater: "Gaz et eau", gridm: "Compteur du réseau", network: "Réseau",
    mqtt: "MQTT (Home Assistant)", time: "Heure", display: "Afficheur", language: "Langue", calib: "Étalonnage",
    advanced: "Mesure et serveur web", input: "Entrée", password: "Le mot de passe du compteur",
    set_pw: "Choisir un nouveau mot de passe", pw_done: "Le nouveau mot de passe est enregistré.",
    name: "Nom", usage: "Usage", phase: "Phase", ct_ratio: "Rapport du TC (1000 pour 90 A : 90 mA)",
    cts: "TC sur cette entrée (en parallèle)", burden_ohm: "Résistance de charge (\u03a9)", pf: "Facteur de puissance",
    noise_floor_a: "Seuil de bruit (A : en dessous, 0 W)", currency: "Devise",
    price_kwh: "Prix du kWh (toute période sans prix ci-dessous)", period: "Période %d", add_period: "Ajouter une période",
    per_kwh: "prix du kWh", gas_l_per_pulse: "Gaz : litres par impulsion",
    gas_kwh_per_m3: "Gaz : kWh par m\u00b3 (le coefficient de la facture de gaz)", gas_price_kwh: "Gaz : prix du kWh",
    water_l_per_pulse: "Eau : litres par impulsion", water_price_m3: "Eau : prix du m\u00b3",
    pulse_min_ms: "Écart minimal entre impulsions (ms ; plus proches, ce sont des rebonds)",
    grid: "Port du compteur du réseau", hostname: "Nom d'hôte", dhcp: "Adresse", ip: "Adresse IP",
    netmask: "Masque de sous-réseau", gateway: "Passerelle", dns: "Serveur DNS",
    mqtt_host: "Serveur (nom d'hôte ou adresse IP ; vide : pas de MQTT)", mqtt_port: "Port", mqtt_user: "Utilisateur",
    mqtt_password: "Mot de passe", pw_set: "défini : tapez-en un autre pour le changer", pw_unset: "aucun",
    pw_none: "Pas de mot de passe", mqtt_client_id: "Identifiant client (vide : submeter-<id de la carte>)",
    mqtt_prefix: "Préfixe des sujets", mqtt_discovery: "Préfixe de découverte Home Assistant (vide : aucun)",
    mqtt_interval_s: "Publié toutes les (s)", mqtt_tls: "TLS (l'AC du serveur dans mqtt_ca.pem sur le compteur ; le port 1883 devient 8883)",
    o_mqtt_tls: ["Non", "Oui"], mqtt_tls_name: "Nom sur le certificat du serveur (vide : celui du serveur)",
    capacity_warn_w: "Tarif capacitaire : alerte dès (W ; 0 : pic du mois)", utc_offset_min: "Décalage UTC (minutes ; 60 pour Paris, Bruxelles)",
    dst: "Heure d'été", ntp_host: "Serveur NTP (vide : aucun)", contrast: "Contraste (0\u2013255)",
    screen_home_s: "Retour à l'écran d'accueil après (s)", screen_sleep_s: "Mise en veille de l'afficheur après (s ; 0 : jamais)",
    lang: "Langue du compteur (afficheur et page)", voltage: "Tension nominale (V, tant qu'aucun compteur ne la donne)",
    mains_hz: "Fréquence du secteur (Hz)", period_ms: "Cycle de mesure (ms)", window_cycles: "Périodes du secteur par mesure (0 : tout le cycle)",
    max_gap_ms: "Écart maximal couvert par une lecture (ms)", save_s: "Compteurs enregistrés toutes les (s)",
    http_host: "Adresse du serveur web (0.0.0.0 : toutes les interfaces)", http_port: "Port du serveur web",
    http_max_clients: "Clients web simultanés",
    standby: "Veille (la consommation de fond la nuit)", standby_window: "Mesurée chaque nuit de-à (HH:MM-HH:MM, heure locale)",
    standby_pct: "Centile de ses moyennes courtes (1\u201350 ; 10 : le dixième le plus bas)",
    o_usage: ["Chauffage", "Refroidissement", "Eau chaude", "Prises", "Autres"], o_dst: ["Heure d'été européenne", "Aucune"],
    o_grid: ["Automatique (trouve le compteur)", "TIC (Linky ou plus ancien), l'un ou l'autre mode", "TIC mode standard (Linky)",
      "TIC mode historique", "P1 (Belgique, Pays-Bas)", "Aucun"], o_dhcp: ["Automatique (DHCP)", "Fixe"],
    zero: "Zéro", zero_hint: "Zéro : coupez d'abord le circuit ; l'entrée apprend son bruit au repos.",
    cal_hint: "Échelle : allumez seule sur le circuit une charge de puissance connue (la plaque d'une bouilloire, ou ce que lit un compteur de référence), entrez ses watts, puis Étalonner : le compteur la mesure et règle le rapport du TC.",
    known: "Charge connue (W)", calibrate: "Étalonner", zeroed: "zéro fait", not_zeroed: "zéro non fait",
    zeroing: "zéro en cours %d %", cal_running: "étalonnage %d %",
    cal_done: "étalonné : %s W mesurés pour %s W ; rapport du TC %s \u2192 %s", cal_failed: "échec de l'étalonnage : %s",
    clock: "L'horloge du compteur : %s (%s)", set_clock: "La mettre à l'heure de cet appareil", clock_set: "Réglée.",
    vref_v_per_v: "Référence de tension : V secteur par V sur sa broche", export: "Peut réinjecter (solaire, batterie, VE)",
    ct_flip: "TC lu dans l'autre sens", phase_deg: "Avance de phase du TC (\u00b0)", o_yes: ["Non", "Oui"], phcal: "Étalonner la phase",
    ph_hint: "Phase : une charge résistive (bouilloire, radiateur) en marche sur le circuit, puis Étalonner la phase (avec la référence de tension).",
    phcal_running: "phase : %d %", phcal_done: "phase : %s\u00b0", phcal_failed: "phase : échec : %s",
    src: { meter: "par le compteur électrique", ntp: "par NTP", set: "réglée à la main", rtc: "par l'horloge de la carte", none: "pas encore connue" } },
};
S.en.o_lang = S.fr.o_lang = ["English", "Français"];
let T = S.en, cfg = null, st = null, calSeen = null;

const esc = (s) => String(s).replace(/[&<>"']/g, (c) => "&#" + c.charCodeAt(0) + ";");
const short = (l) => l.split(" (")[0];
const fmt = (f, ...a) => { let k = 0; return f.replace(/%[sd]/g, () => a[k++]); };
const watts = (w) => w >= 10000 ? (w / 1000).toFixed(1) + " kW" : Math.round(w) + " W";
const getJSON = async (p) => { const r = await fetch(p, { cache: "no-store" }); if (!r.ok) throw new Error(r.status); return r.json(); };
const say = (s) => { $("status").textContent = s; };
// the config as saved: GET /api/config gives the one in use, and in "pending" the saved
// values of the settings that wait for a restart
async function getConfig() {
  const c = await getJSON("/api/config");
  for (const [k, v] of Object.entries(c.pending || {})) {
    const m = /^inputs\[(\d+)\]\.(\w+)$/.exec(k);
    if (m) c.inputs[+m[1]][m[2]] = v; else c[k] = v;
  }
  return c;
}
// a setting's name as the firmware says it -> its field's id: "inputs[2].ct_ratio" -> in2_ct_ratio,
// "prices_kwh[1]" -> pr1, "mqtt_port" -> f_mqtt_port
function idOf(name) {
  let m = /^inputs\[(\d+)\]\.(\w+)$/.exec(name);
  if (m) return "in" + m[1] + "_" + m[2];
  m = /^prices_kwh\[(\d+)\]$/.exec(name);
  return m ? "pr" + m[1] : "f_" + name;
}
// ... and as the page names it: "Input 3 · CT ratio"
function nameOf(name) {
  const m = /^inputs\[(\d+)\]\.(\w+)$/.exec(name);
  return m ? T.input + " " + (+m[1] + 1) + " \u00b7 " + short(T[m[2]] || m[2]) : short(T[name] || name);
}

function field(key, i) {
  const id = i == null ? "f_" + key : "in" + i + "_" + key;
  let h = '<label for="' + id + '">' + esc(T[key]) + "</label>";
  if (SEL[key]) {
    const names = T["o_" + key] || (SEL[key][0] === false && T.o_yes) || SEL[key].map((v) => (key === "phase" ? "L" : "") + v);
    h += '<select id="' + id + '">' + SEL[key].map((v, k) => '<option value="' + v + '">' + esc(names[k]) + "</option>").join("") + "</select>";
  } else if (INT[key] || NUM[key]) {
    const b = INT[key] || NUM[key];
    h += '<input type="number" id="' + id + '" min="' + b[0] + '" max="' + b[1] + '" step="' + (INT[key] ? 1 : "any") +
      '" inputmode="' + (INT[key] && b[0] >= 0 ? "numeric" : "decimal") + '">';
  } else {
    h += '<input type="' + (key === "mqtt_password" ? "password" : "text") + '" id="' + id + '" maxlength="' + TXT[key] +
      '" autocomplete="' + (key === "mqtt_password" ? "new-password" : "off") + '" spellcheck="false">';
    if (key === "mqtt_password")
      h += '<label><input type="checkbox" id="f_pw_none"> ' + esc(T.pw_none) + "</label>";
  }
  return h + '<span class="err" id="e_' + id + '"></span>';
}

function periodNames() {  // the grid meter's own names of its tariff periods, where it says them
  const r = st && st.grid && st.grid.reading;
  if (!r) return [];
  const o = r.source === "tic_historic" && r.option && r.option.option;  // (a Linky standard's NGTF is free text)
  const n = (o === "hc" ? ["HC", "HP"] : o === "ejp" ? ["HN", "PM"] : o === "base" ? ["BASE"] :
    o === "tempo" ? ["HCJB", "HPJB", "HCJW", "HPJW", "HCJR", "HPJR"] : r.source === "p1" ? ["T1", "T2"] : []).slice();
  if (r.period && r.period_index) n[r.period_index - 1] = r.period;  // the running one, as the meter names it
  return n;
}

function periods(count) {
  const names = periodNames();
  let h = "";
  for (let k = 0; k < count; k++) {
    const p = fmt(T.period, k + 1);
    h += '<label for="pr' + k + '">' + esc(names[k] ? names[k] + " (" + p + ")" : p) + " \u00b7 " + esc(T.per_kwh) +
      '</label><input type="number" id="pr' + k + '" min="0" max="100" step="any" inputmode="decimal">' +
      '<span class="err" id="e_pr' + k + '"></span>';
  }
  $("periods").innerHTML = h;
  $("add_period").hidden = count >= 10;
  fillPeriods();
}

function fillPeriods() {
  for (let k = 0; $("pr" + k); k++) {
    const e = $("pr" + k);
    e.placeholder = cfg.price_kwh;
    e.value = k < cfg.prices_kwh.length ? cfg.prices_kwh[k] : "";
  }
}

function build() {
  let h = '<p id="toc">' + ["circuits", ...GROUPS.map((g) => g[0])].map((g) => '<a href="#g_' + g + '">' + esc(T[g]) + "</a>").join(" \u00b7 ") +
    '</p><fieldset id="g_circuits"><legend>' + esc(T.circuits) + "</legend>";
  cfg.inputs.forEach((inp, i) => {
    h += '<fieldset><legend id="lg' + i + '"></legend>' + INPUT.map((k) => field(k, i)).join("") + "</fieldset>";
  });
  h += "</fieldset>";
  for (const [g, keys] of GROUPS) {
    h += '<fieldset id="g_' + g + '"><legend>' + esc(T[g]) + "</legend>";
    for (const k of keys.split(" ").filter((x) => x)) {
      if (k === "ip") h += '<div id="static_ip">';
      h += field(k);
      if (k === "dns") h += "</div>";
      if (k === "price_kwh")
        h += '<div id="periods"></div><p><button type="button" id="add_period">' + esc(T.add_period) + "</button></p>";
    }
    if (g === "time")  // a meter without the grid meter's clock and without NTP: the browser's
      h += '<p><span id="clock_now"></span><br><button type="button" id="setclock">' + esc(T.set_clock) +
        '</button> <span id="clock_said" role="status"></span></p>';
    if (g === "password")
      h += '<p><button type="button" id="setpw">' + esc(T.set_pw) + '</button> <span id="pw_said" role="status"></span></p>';
    if (g === "calib") {
      h += '<p class="muted">' + esc(T.zero_hint) + "<br>" + esc(T.cal_hint) + "<br>" + esc(T.ph_hint) + "</p>";
      cfg.inputs.forEach((inp, i) => {
        h += '<fieldset><legend id="cl' + i + '"></legend><p class="muted" id="cw' + i + '"></p>' +
          '<div class="row"><div><label for="kw' + i + '">' + esc(T.known) + '</label><input type="number" id="kw' + i +
          '" min="1" step="any" inputmode="decimal"></div><button type="button" id="cb' + i + '">' + esc(T.calibrate) +
          '</button><button type="button" id="z' + i + '">' + esc(T.zero) + '</button><button type="button" id="cp' + i +
          '">' + esc(T.phcal) + "</button></div>" +
          '<span class="err" id="ce' + i + '"></span><p id="cs' + i + '"></p><p id="cq' + i + '"></p></fieldset>';
      });
    }
    h += "</fieldset>";
  }
  $("form").innerHTML = h;
  const r = st && st.grid && st.grid.reading, idx = (r && r.import_wh) || [];
  let used = idx.length;  // the meter's indexes that counted something (a Linky sends ten, most at 0)
  while (used && !idx[used - 1]) used--;
  periods(Math.min(10, Math.max(1, cfg.prices_kwh.length, periodNames().length, used, (r && r.period_index) || 0,
    st && st.periods_wh ? st.periods_wh.length : 0)));
  $("add_period").onclick = () => { const n = document.querySelectorAll("#periods input").length; keep(() => periods(n + 1)); };
  $("setclock").onclick = async () => {
    const r = await post("/api/time", JSON.stringify({ utc: Date.now() / 1000 }));
    $("clock_said").textContent = !r ? "" : r.ok ? T.clock_set : (await r.text()).replace(/^\d{3} [^:]*: /, "");
    tick();
  };
  $("setpw").onclick = async () => {
    const r = await setPassword();  // (pw.js: asked twice, then the meter's current one)
    $("pw_said").textContent = !r ? "" : r.ok ? T.pw_done : (await r.text()).replace(/^\d{3} [^:]*: /, "");
  };
  $("f_dhcp").onchange = () => { $("static_ip").hidden = $("f_dhcp").value === "dhcp"; };
  cfg.inputs.forEach((inp, i) => {
    $("in" + i + "_name").oninput = $("in" + i + "_usage").onchange = () => legends();
    $("z" + i).onclick = () => command(i, "/api/zero", { input: i + 1 });
    $("cp" + i).onclick = () => command(i, "/api/phasecal", { input: i + 1 });
    $("cb" + i).onclick = () => {
      const v = $("kw" + i).value;
      command(i, "/api/calibrate", { input: i + 1, watts: v === "" ? null : Number(v) });
    };
  });
}

function keep(f) {  // f() made again part of the form: what was typed there stays
  const typed = [...document.querySelectorAll("#periods input")].map((e) => e.value);
  f();
  typed.forEach((v, k) => { if ($("pr" + k)) $("pr" + k).value = v; });
}

function legends() {  // an input without a name of its own shows its usage's, in the page's language
  cfg.inputs.forEach((inp, i) => {
    const name = $("in" + i + "_name"), u = $("in" + i + "_usage").value || inp.usage;
    name.placeholder = T.o_usage[USAGES.indexOf(u)];
    const n = name.value || name.placeholder;
    $("lg" + i).textContent = $("cl" + i).textContent = T.input + " " + (i + 1) + " \u00b7 " + n;
  });
}

function fill() {
  for (const [, keys] of GROUPS)
    for (const k of keys.split(" ")) {
      const e = $("f_" + k);
      if (e && k !== "dhcp" && k !== "mqtt_password") e.value = cfg[k];
    }
  $("f_dhcp").value = cfg.ip ? "static" : "dhcp";
  $("static_ip").hidden = !cfg.ip;
  $("f_mqtt_password").value = "";
  $("f_mqtt_password").placeholder = cfg.mqtt_password ? T.pw_set : T.pw_unset;
  $("f_pw_none").checked = false;
  cfg.inputs.forEach((inp, i) => { for (const k of INPUT) $("in" + i + "_" + k).value = inp[k]; });
  fillPeriods();
  legends();
}

function value(e, key) {  // a field's value as the config holds it (an empty number: null, which the meter refuses by name)
  if (INT[key] || NUM[key]) return e.value.trim() === "" ? null : Number(e.value);
  if (SEL[key] && SEL[key][0] === false) return e.value === "true";  // (mqtt_tls, ct_flip, export)
  return key === "name" || key === "mqtt_user" ? e.value : e.value.trim();
}

function changes() {
  const ch = {};
  for (const [, keys] of GROUPS)
    for (const k of keys.split(" ")) {
      const e = $("f_" + k);
      if (!e || k === "dhcp" || k === "mqtt_password") continue;
      let v = value(e, k);
      if (k === "ip" && $("f_dhcp").value === "dhcp") v = "";
      if (v !== cfg[k]) ch[k] = v;
    }
  if ($("f_pw_none").checked) { if (cfg.mqtt_password) ch.mqtt_password = ""; }
  else if ($("f_mqtt_password").value) ch.mqtt_password = $("f_mqtt_password").value;
  const pr = [...document.querySelectorAll("#periods input")].map((e) => e.value.trim() === "" ? "" : Number(e.value));
  while (pr.length && pr[pr.length - 1] === "") pr.pop();
  const prices = pr.map((v) => v === "" ? cfg.price_kwh : v);  // a gap: the price of every period
  if (JSON.stringify(prices) !== JSON.stringify(cfg.prices_kwh)) ch.prices_kwh = prices;
  let any = false;
  const ins = cfg.inputs.map((inp, i) => {
    const d = {};
    for (const k of INPUT) {
      const v = value($("in" + i + "_" + k), k);
      if (v !== inp[k]) { d[k] = v; any = true; }
    }
    return d;
  });
  if (any) ch.inputs = ins;
  return ch;
}

function clearErrors() {
  document.querySelectorAll(".err").forEach((e) => { e.textContent = ""; });
}

// the firmware's refusal ("400 Bad Request: inputs[2].ct_ratio: 0 is outside 1..100000") next to its field
function refusal(txt, where) {
  txt = txt.trim().replace(/^\d{3} [^:]*: /, "");
  const m = /^([\w.[\]]+): (.*)$/.exec(txt), e = m && $("e_" + idOf(m[1]));
  if (e && !where) {
    e.textContent = m[2];
    $(idOf(m[1])).focus();
    return nameOf(m[1]) + ": " + m[2];
  }
  if (where) where.textContent = txt;
  return txt;
}

async function save() {
  clearErrors();
  const ch = changes();
  if (!Object.keys(ch).length) return say(T.nochange);
  say("\u2026");
  let r;
  try {
    r = await post("/api/config", JSON.stringify(ch));
  } catch (e) { return say(T.noanswer + e.message); }
  if (!r) return say("");
  if (!r.ok) return say(T.refused + refusal(await r.text()));
  const a = await r.json();
  cfg = await getConfig();
  fill();
  say(T.saved + (a.restart.length ? " " + T.later : ""));
  tick();
}

async function command(i, path, body) {  // a zeroing or a calibration of input i
  $("ce" + i).textContent = "";
  try {
    const r = await post(path, JSON.stringify(body));
    if (r && !r.ok) refusal(await r.text(), $("ce" + i));
  } catch (e) { $("ce" + i).textContent = T.noanswer + e.message; }
  tick();
}

function restartBox() {
  const need = (st && st.restart_needed) || [];
  $("restart_box").hidden = !need.length;
  $("restart_list").textContent = T.wait_restart + need.map(nameOf).join(", ") + ".";
}

async function restart() {
  const up = st ? st.uptime_s : 0;
  const r = await post("/api/restart", "{}");
  if (!r) return;
  if (!r.ok) return say(await r.text());
  $("restart").disabled = true;
  say(T.restarting);
  let down = false;
  for (let k = 0; k < 120; k++) {  // a minute at most
    await new Promise((ok) => setTimeout(ok, 500));
    try {
      const s = await getJSON("/api/state");
      if (down || s.uptime_s < up) {
        st = s;
        cfg = await getConfig();
        fill();
        restartBox();
        $("restart").disabled = false;
        return say(T.back_up);
      }
    } catch (e) { down = true; }
  }
  $("restart").disabled = false;
  say(T.not_back);
}

async function tick() {
  try {
    st = await getJSON("/api/state");
  } catch (e) { return; }  // restarting, or the network: the next tick
  restartBox();
  const tm = st.time || {};
  if ($("clock_now")) $("clock_now").textContent = fmt(T.clock, tm.local || "-", T.src[tm.source || "none"] || tm.source);
  const z = st.zeroing, c = st.calibration;
  st.inputs.forEach((inp, i) => {
    if (!$("cw" + i)) return;
    const zs = z && z.inputs.includes(i + 1) ? fmt(T.zeroing, z.progress) : inp.zeroed ? T.zeroed + (inp.zeroed === "yes" ? "" : " " + inp.zeroed) : T.not_zeroed;
    $("cw" + i).textContent = watts(inp.w) + " \u00b7 " + inp.a.toFixed(2) + " A \u00b7 " + zs;
    let cs = "";
    if (c && c.input === i + 1)
      cs = c.state === "running" ? fmt(T.cal_running, c.progress) : c.state === "done" ?
        fmt(T.cal_done, Math.round(c.measured_w), Math.round(c.true_w), c.ratio_before, c.ratio_after) : fmt(T.cal_failed, c.error || "");
    $("cs" + i).textContent = cs;
  });
  await phasecal();
  if (c && c.state === "done" && calSeen !== JSON.stringify(c)) {  // the new CT ratio, in its field
    calSeen = JSON.stringify(c);
    const fresh = await getConfig();
    cfg.inputs[c.input - 1].ct_ratio = fresh.inputs[c.input - 1].ct_ratio;
    $("in" + (c.input - 1) + "_ct_ratio").value = cfg.inputs[c.input - 1].ct_ratio;
  }
}

// issue 22: the phase calibration's progress and result, the phase found in its field
let phSeen = null;
async function phasecal() {
  const p = st.phasecal, k = p ? p.input - 1 : -1;
  st.inputs.forEach((inp, i) => {
    if ($("cq" + i)) $("cq" + i).textContent = i !== k ? "" : p.error ? fmt(T.phcal_failed, p.error) :
      p.done ? fmt(T.phcal_done, p.phase_deg) : fmt(T.phcal_running, p.progress);
  });
  if (p && p.done && !p.error && phSeen !== JSON.stringify(p)) {
    phSeen = JSON.stringify(p);
    $("in" + k + "_phase_deg").value = cfg.inputs[k].phase_deg = (await getConfig()).inputs[k].phase_deg;
  }
}

async function init() {
  try {
    cfg = await getConfig();
    st = await getJSON("/api/state");
  } catch (e) { $("load").textContent = "The meter did not answer. Le compteur n'a pas répondu. " + e.message; return; }
  const lang = LANG === "en" || LANG === "fr" ? LANG : cfg.lang;
  T = S[lang] || S.en;
  document.documentElement.lang = lang;
  document.title = $("title").textContent = T.title;
  $("back").textContent = T.back;
  if (LANG) $("back").href = "/?lang=" + LANG;
  $("save").textContent = T.save;
  $("restart").textContent = T.restart;
  build();
  fill();
  $("load").hidden = true;
  $("form").hidden = $("bar").hidden = false;
  $("save").onclick = save;
  $("restart").onclick = restart;
  $("form").onsubmit = (ev) => { ev.preventDefault(); save(); };
  tick();
  setInterval(tick, 2000);
}
init();
