// The page's script (served gzipped from the meter's flash as /app.js): live figures from
// /api/state every 2 s, the panel's mirror, the history charts, and the commands (which
// ask for the meter's password). The page reads fine without it: the meter fills it in.
"use strict";
const L = JSON.parse(document.getElementById("labels").textContent);
const $ = (id) => document.getElementById(id);
const set = (id, v) => { const e = $(id); if (e) e.textContent = v; };
const USAGES = ["heating", "cooling", "hot_water", "sockets", "other"];
const COLOURS = { heating: "#d9534f", cooling: "#5bc0de", hot_water: "#f0ad4e", sockets: "#5cb85c", other: "#777" };

function volText(s) {
  if (!s.gas) return "";
  return L.gas + " " + s.gas.m3 + " m\u00b3 \u00b7 " + s.gas.kwh.toFixed(1) + " kWh \u00b7 " + L.water + " " + s.water.m3 + " m\u00b3";
}

function gridText(g) {
  if (!g) return "";
  if (g.hint) {  // nothing valid from the meter: what to check first
    if (L["hx_" + g.hint]) return L["hx_" + g.hint];
    const l = L["h_" + g.hint].split("|").map((x) => x.trim());
    const s = l[0] + ": " + l.slice(1).join(" ");
    return g.hint.startsWith("p1") || g.hint === "silent" ? s + " " + L.p1_portal : s;
  }
  const r = g.reading;
  if (!r) return L.waiting + " " + (g.port || "-") + " \u2026";
  const p = r.source === "p1" ? (r.export_w && !r.power_w ? "P- " + r.export_w + " W" : "P+ " + (r.power_w ?? "-") + " W") :
    r.power_va != null ? r.power_va + " VA" : r.power_w != null ? r.power_w + " W" : "-";
  const al = (r.alerts || []).map(a => " \u00b7 " + alertText(a)).join("");
  return (L["src_" + r.source] || r.source) + " \u00b7 " + (r.period || "-") + " \u00b7 " + p + al;
}

// ---- slice "grid": the grid meter's figures, a row each (as page.py's grid_rows) ----
const alertText = (a) => a.startsWith("phase_lost_") ? L.al_phase.replace("%d", a.slice(11)) : L["al_" + a] || a;
const words = (s) => s.split(/\s+/).filter((x) => x).join(" ");
const p3 = (n) => String(n).padStart(3, "0");

function gKwh(wh) {  // kWh: 3 decimals under 100, 1 under 10,000, none above
  if (wh < 100000) return Math.floor(wh / 1000) + "." + p3(wh % 1000) + " kWh";
  if (wh < 10000000) { const d = Math.floor((wh + 50) / 100); return Math.floor(d / 10) + "." + (d % 10) + " kWh"; }
  return Math.floor((wh + 500) / 1000) + " kWh";
}

function gW(w, unit) {  // W (or VA), k with 1 decimal from 10 k
  unit = unit || "W"; w = Math.trunc(w);
  if (w < 10000) return w + " " + unit;
  const d = Math.floor((w + 50) / 100);
  return Math.floor(d / 10) + "." + (d % 10) + " k" + unit;
}

function gNum(x) {  // as the meter sends it, to the thousandth
  const m = Math.round(x * 1000);
  return m % 1000 === 0 ? String(m / 1000) : (Math.floor(m / 1000) + "." + p3(m % 1000)).replace(/0+$/, "");
}

const gEach = (v, unit) => v.map((x) => x == null ? "-" : gNum(x)).join(" \u00b7 ") + " " + unit;

function gStamp(s) {  // a meter's time as 2020-02-14 17:51
  if (!s) return "-";
  s = s.trim();
  if (/^[A-Za-z]/.test(s)) s = s.slice(1);
  if (!/^\d{10}/.test(s)) return s;
  return "20" + s.slice(0, 2) + "-" + s.slice(2, 4) + "-" + s.slice(4, 6) + " " + s.slice(6, 8) + ":" + s.slice(8, 10);
}

const HIST_NAMES = { BASE: ["BASE"], HC: ["HCHC", "HCHP"], EJP: ["EJPHN", "EJPHPM"] };
const BBR_NAMES = ["BBRHCJB", "BBRHPJB", "BBRHCJW", "BBRHPJW", "BBRHCJR", "BBRHPJR"];
const TEMPO_STD = ["HC BLEU", "HP BLEU", "HC BLANC", "HP BLANC", "HC ROUGE", "HP ROUGE"];

function indexName(r, k) {  // index k's name as the meter calls it (reading.py's index_name)
  const o = r.tariff_option || "";
  if (r.source === "tic_standard")
    return (r.std && r.std.names && r.std.names[k - 1]) || (o.includes("TEMPO") && k <= 6 ? TEMPO_STD[k - 1] : null);
  const names = r.source === "p1" ? ["T1", "T2", "T3", "T4"] : o.startsWith("BBR") ? BBR_NAMES : HIST_NAMES[o] || [];
  return names[k - 1] || null;
}

function gridRows(g) {
  const r = g && g.reading, rows = [];
  if (!r) return rows;
  const add = (key, label, v, code) => {
    if (v != null) rows.push([key, code ? label + " (" + code + ")" : label, v]);
  };
  const src = r.source || "", p1 = src === "p1", std = src === "tic_standard";
  const opt = (v, f) => v == null ? null : f(v);
  add("model", L.gr_model, [L["src_" + src] || src, r.meter_model].filter((x) => x).join(" \u00b7 "));
  add("serial", L.gr_serial, r.meter_id, p1 ? "96.1.1" : std ? "ADSC" : "ADCO");
  add("version", L.gr_version, r.meter_version, p1 ? (r.tariff_option === "BE" ? "96.1.4" : "0.2.8") : "VTIC");
  const sd = r.std || {};  // (a Linky in standard mode: SMAXSN, PCOUP, PRM...)
  add("prm", L.gr_prm, sd.prm);
  const o = r.tariff_option;
  if (o && !p1) add("option", L.gr_option, o.startsWith("BBR") ? "Tempo (" + o + ")" : o, std ? "NGTF" : "OPTARIF");
  add("period", L.gr_period, r.period ? words(r.period) : null);
  const now = r.period_index;
  (r.import_wh || []).forEach((wh, k) => {
    if (wh == null || (!wh && k + 1 !== now)) return;  // (a Linky's unused indexes, at 0)
    let name = indexName(r, k + 1), code = p1 ? "1.8." + (k + 1) : std ? "EASF" + String(k + 1).padStart(2, "0") : null;
    if (!name) { name = code || String(k + 1); code = null; }  // (no name known: the meter's code alone)
    add("i" + (k + 1), words(name), gKwh(wh) + (k + 1 === now ? " (" + L.gr_now + ")" : ""), code);
  });
  let total = r.import_total_wh;
  if (total == null && r.import_wh && r.import_wh.length) total = r.import_wh.reduce((a, b) => a + b, 0);
  add("imp", L.gr_import, opt(total, gKwh), std ? "EAST" : null);
  (r.export_tariff_wh || []).forEach((wh, k) =>
    add("x" + (k + 1), L.gr_exp_t + " T" + (k + 1), opt(wh, gKwh), "2.8." + (k + 1)));
  add("exp", L.gr_export, opt(r.export_wh, gKwh), p1 ? null : "EAIT");
  if (p1) {
    add("pw", L.gr_power, opt(r.power_w, gW), "1.7.0");
    add("pwx", L.gr_power_x, opt(r.export_w, gW), "2.7.0");
    add("demand", L.gr_demand, opt(r.demand_w, gW), "1.4.0");
  } else {
    add("va", L.gr_va, opt(r.power_va, (v) => gW(v, "VA")), std ? "SINSTS" : "PAPP");
    add("vax", L.gr_va_x, opt(r.export_va, (v) => gW(v, "VA")), "SINSTI");
  }
  const each = (v, unit) => v && v.length ? gEach(v, unit) : null;
  add("ph_v", L.gr_volts, each(r.voltage_v, "V"));
  add("ph_a", L.gr_amps, each(r.current_a, "A"));
  add("ph_w", L.gr_ph_w, p1 ? each(r.power_w_phases, "W") : each(r.power_va_phases, "VA"));
  add("ph_x", L.gr_ph_x, each(r.export_w_phases, "W"));
  add("sub", L.gr_sub, opt(r.subscribed_a, (v) => v + " A"), "ISOUSC");
  add("pref", L.gr_sub, opt(r.subscribed_kva, (v) => v + " kVA"), "PREF");
  add("cut", L.gr_cut, opt(sd.cutoff_kva, (v) => v + " kVA"), "PCOUP");
  add("lim", L.gr_limiter, opt(r.limiter_w, (v) => gW(v) + (v >= 999000 ? " (" + L.gr_nolimit + ")" : "")), "17.0.0");
  add("fuse", L.gr_fuse, opt(r.fuse_a, (v) => v + " A" + (v >= 999 ? " (" + L.gr_nolimit + ")" : "")), "31.4.0");
  add("peak", L.gr_peak, opt(r.peak_w, (v) => gW(v) + " \u00b7 " + gStamp(r.peak_time)), "1.6.0");
  add("peaks", L.gr_peaks, opt(r.peak_history, (v) => v.map((p) =>
    gStamp(p.month).slice(0, 7) + " " + (p.w == null ? "-" : gW(p.w))).join(" \u00b7 ") || L.gr_none), "98.1.0");
  add("pmax", L.gr_pmax, opt(r.pmax_w, gW), "PMAX");
  add("imax", L.gr_imax, each(r.imax_a, "A"), "IMAX");
  add("smax", L.gr_smax, opt(sd.smax_va, (v) => gW(v, "VA") + " \u00b7 " + gStamp(sd.smax_time)), "SMAXSN");
  add("smax1", L.gr_smax1, opt(sd.smax_prev_va, (v) => gW(v, "VA")), "SMAXSN-1");
  const a = r.tempo_today, b = r.tempo_tomorrow;
  add("tempo", L.gr_tempo, a || b ? (a ? L[a] : "?") + ", " + (b ? L[b] : "?") : null);
  add("alerts", L.gr_alerts, (r.alerts || []).map(alertText).join(", ") || L.gr_none);
  const m = r.messages;
  const msg = m ? Object.keys(m).sort().filter((k) => m[k]).map((k) => words(m[k])).join(" \u00b7 ") : null;
  add("msg", L.gr_msg, msg || null);
  for (const kind of ["gas", "water"]) {
    const l = r[kind + "_l"];
    add(kind, L["gr_" + kind], opt(l, (v) =>
      Math.floor(v / 1000) + "." + p3(v % 1000) + " m\u00b3 \u00b7 " + gStamp(r[kind + "_time"])));
  }
  add("time", L.gr_time, r.time ? gStamp(r.time) : null, p1 ? "1.0.0" : "DATE");
  add("frames", L.gr_frames, (g.frames || 0) + " (" + (g.checksum_errors || 0) + ")");
  return rows;
}

function gridTable(g) {  // the rows rebuilt, text only (no markup from the meter reaches the page)
  const body = document.querySelector("#gridt tbody");
  if (!body) return;
  body.replaceChildren(...gridRows(g).map(([key, label, v]) => {
    const tr = document.createElement("tr");
    tr.id = "g_" + key;
    for (const x of [label, v]) tr.appendChild(document.createElement("td")).textContent = x;
    return tr;
  }));
}
// ---- end of slice "grid" ----

const fmt = (f, args) => { let k = 0; return f.replace(/%[sd]/g, () => args[k++]); };

// The phase-balance table, when the meter rendered one (three-phase installations)
function phases(ph) {
  if (!ph) return;
  for (const p of ph.phases) {
    const row = $("ph" + p.n);
    if (!row) continue;
    const a = ph.metered ? p.a : p.ct_a, lim = ph.limit_a, top = lim || Math.max(10, a || 0);
    const m = row.querySelector("meter");
    m.max = top; m.high = lim ? 0.8 * top : top; m.value = a || 0;
    row.querySelector(".a").textContent = a == null ? "-" : a.toFixed(1);
    row.querySelector(".pct").textContent = p.pct != null ? p.pct + " %" : "";
    row.querySelector(".mx").textContent = p.max_a ?? "-";
    row.querySelector(".w").textContent = p.w ?? "-";
    row.querySelector(".ct").textContent = (p.inputs.join(",") || "-") + " \u00b7 " + p.ct_a.toFixed(2) + " A";
  }
  const mv = ph.move;
  set("ph_move", mv ? fmt(L.ph_hint, [mv.input, mv.name || mv.input, mv.from, mv.to, mv.gap_a, mv.after_a]) : "");
}

async function tick() {
  try {
    const s = await (await fetch("/api/state", { cache: "no-store" })).json();
    set("total_w", s.total_w.toFixed(1)); set("total_kwh", s.total_kwh); set("total_cost", s.total_cost.toFixed(2));
    set("uptime", s.uptime_s); set("grid", gridText(s.grid)); gridTable(s.grid);
    set("volumes", volText(s));
    if ($("grid")) $("grid").className = s.grid && s.grid.hint ? "warn" : "";  // what to check: as a warning
    phases(s.phases);
    for (const i of s.inputs) {
      const row = $("in" + i.id);
      if (!row) continue;
      row.querySelector(".w").textContent = i.w.toFixed(1);
      row.querySelector(".a").textContent = i.a.toFixed(2);
      row.querySelector(".kwh").textContent = i.kwh;
      row.querySelector(".cost").textContent = i.cost.toFixed(2);
      row.querySelector(".part").textContent = i.partial_kwh;
    }
    const since = s.inputs[0].partial_since;
    set("since", since ? L.partial + " " + L.since + " " + since : "");
    set("time", s.time && s.time.local ? s.time.local + " (" + s.time.source + ")" : "-");
    if (s.month) {
      set("month_title", L.month + " " + s.month.date);
      for (const u of USAGES) {
        const row = $("u_" + u);
        if (!row) continue;
        row.querySelector(".d").textContent = s.today ? (s.today.usage[u].wh / 1000).toFixed(1) : "-";
        row.querySelector(".m").textContent = (s.month.usage[u].wh / 1000).toFixed(1);
        row.querySelector(".c").textContent = s.month.usage[u].cost.toFixed(2);
      }
    }
    const lcd = $("lcd");
    if (lcd) lcd.src = "/screen.png?t=" + Date.now();
  } catch (e) { /* the meter is restarting or the network is down: try again in 2 s */ }
}

// History: one bar per day (or month), stacked by usage, drawn as SVG.
function chart(id, recs, label) {
  const svg = $(id);
  if (!svg) return;
  const W = 600, H = 160, top = 10, bottom = 20;
  const max = Math.max(1, ...recs.map((r) => r.wh));
  const bw = W / Math.max(recs.length, 1);
  let out = "";
  recs.forEach((r, k) => {
    let y = H - bottom;
    for (const u of USAGES) {
      const h = (r.usage[u].wh / max) * (H - top - bottom);
      if (h <= 0) continue;
      y -= h;
      out += '<rect x="' + (k * bw + 1).toFixed(1) + '" y="' + y.toFixed(1) + '" width="' + (bw - 2).toFixed(1) +
        '" height="' + h.toFixed(1) + '" fill="' + COLOURS[u] + '"><title>' + r.date + " " + L[u] + ": " +
        (r.usage[u].wh / 1000).toFixed(1) + " kWh</title></rect>";
    }
    if (k % Math.ceil(recs.length / 8) === 0)
      out += '<text x="' + (k * bw + 1).toFixed(1) + '" y="' + (H - 5) + '" font-size="10">' + label(r.date) + "</text>";
  });
  out += '<text x="' + (W - 4) + '" y="12" font-size="10" text-anchor="end">' + (max / 1000).toFixed(1) + " kWh</text>";
  svg.innerHTML = out;
}

async function charts() {
  try {
    const s = await (await fetch("/api/state")).json();
    const days = (await (await fetch("/api/history?days=31")).json()).reverse();
    if (s.today) days.push(s.today);      // today so far, as the last bar
    chart("chart_days", days, (d) => d.slice(8));
    const months = (await (await fetch("/api/history?months=12")).json()).reverse();
    if (s.month) months.push(s.month);
    chart("chart_months", months, (d) => d.slice(2));
  } catch (e) { /* no history yet */ }
}

// Commands need the meter's password (HTTP Basic); it is asked once per tab.
async function post(path, body) {
  let pw = sessionStorage.getItem("pw");
  let r = null;
  for (let k = 0; k < 3; k++) {
    const h = { "Content-Type": "application/json" };
    if (pw) h.Authorization = "Basic " + btoa("owner:" + pw);
    r = await fetch(path, { method: "POST", headers: h, body: body });
    if (r.status !== 401) break;
    pw = prompt(L.pw_q);
    if (!pw) break;
    sessionStorage.setItem("pw", pw);
  }
  return r;
}

$("reset").onclick = async () => {
  if (!confirm(L.confirm)) return;
  const r = await post("/api/reset", '{"counter":"all"}');
  if (r && !r.ok) alert(await r.text());
  tick();
};

const setpw = $("setpw");
if (setpw) setpw.onclick = async () => {
  const p = prompt(L.new_pw);
  if (!p) return;
  const r = await post("/api/password", JSON.stringify({ password: p }));
  if (r && r.ok) { sessionStorage.setItem("pw", p); location.reload(); } else if (r) alert(await r.text());
};

setInterval(tick, 2000);
charts();
setInterval(charts, 600000);
