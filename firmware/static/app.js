// The page's script (served gzipped from the meter's flash as /app.js): live figures from
// /api/state every 2 s, the panel's mirror, the history charts, and the commands (which
// ask for the meter's password: pw.js). The page reads fine without it: the meter fills it in.
"use strict";
const L = JSON.parse(document.getElementById("labels").textContent);
const $ = (id) => document.getElementById(id);
const set = (id, v) => { const e = $(id); if (e) e.textContent = v; };
const USAGES = ["heating", "cooling", "hot_water", "sockets", "other"];
const LANG = document.documentElement.lang;

function volText(s) {
  if (!s.gas) return "";
  return L.gas + " " + s.gas.m3 + " m\u00b3 \u00b7 " + kwh(s.gas.kwh * 1000 + 0.5) + " kWh \u00b7 " + L.water + " " + s.water.m3 + " m\u00b3";
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

const gKwh = (wh) => kwh(wh) + " kWh";  // (the rule of kwh(), below, with its unit)

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
  set("ph_move", mv ? fmt(L.ph_hint, [mv.input, mv.name || L[mv.usage] || mv.input, mv.from, mv.to, mv.gap_a, mv.after_a]) : "");
}

async function tick() {
  try {
    const s = await (await fetch("/api/state", { cache: "no-store" })).json();
    set("total_w", watts(s.total_w)); set("total_kwh", kwh(s.total_wh)); set("total_cost", s.total_cost.toFixed(2));
    set("uptime", upText(s.uptime_s)); $("uptime").dataset.s = s.uptime_s;
    set("grid", gridText(s.grid)); gridTable(s.grid);
    set("volumes", volText(s));
    if ($("grid")) $("grid").className = s.grid && s.grid.hint ? "warn" : "";  // what to check: as a warning
    phases(s.phases);
    for (const i of s.inputs) {
      const row = $("in" + i.id);
      if (!row) continue;
      row.querySelector(".w").textContent = Math.round(i.w);
      row.querySelector(".a").textContent = i.a.toFixed(2);
      row.querySelector(".kwh").textContent = kwh(i.wh);
      row.querySelector(".cost").textContent = i.cost.toFixed(2);
      row.querySelector(".part").textContent = kwh(i.partial_wh);
      row.querySelector(".pcost").textContent = i.partial_cost.toFixed(2);
    }
    const since = s.inputs[0].partial_since;
    set("since", since ? L.partial + " " + L.since + " " + since : "");
    set("time", s.time && s.time.local ? s.time.local + " (" + (L["c_src_" + s.time.source] || s.time.source) + ")" : "-");
    if (s.month) {
      set("month_title", L.month + " " + s.month.date);
      for (const u of USAGES) {
        const row = $("u_" + u);
        if (!row) continue;
        row.querySelector(".d").textContent = s.today ? kwh(s.today.usage[u].wh) : "-";
        row.querySelector(".m").textContent = kwh(s.month.usage[u].wh);
        row.querySelector(".c").textContent = s.month.usage[u].cost.toFixed(2);
      }
    }
    live(s);
    power22(s);
    const lcd = $("lcd");
    if (lcd) lcd.src = "/screen.png?t=" + Date.now();
    set("lcd_note", s.panel === "asleep" ? L.lcd_asleep : "");  // the mirror shows it asleep too
  } catch (e) { /* the meter is restarting or the network is down: try again in 2 s */ }
}

// --- "charts" (issue 20): figures as the panel shows them, and the history charts --------
// Energy in kWh from whole Wh, cut (not rounded) as a meter's index is: 3 decimals below
// 100 kWh, 1 below 10,000 kWh, none above; power in whole W, kW from 10 kW (page.py's too).
function kwh(wh) {
  wh = Math.floor(wh);
  const k = Math.floor(wh / 1000), f = wh % 1000;
  return wh < 1e5 ? k + "." + String(f).padStart(3, "0") : wh < 1e7 ? k + "." + Math.floor(f / 100) : String(k);
}
function watts(w) { return Math.abs(w) >= 1e4 ? (w / 1000).toFixed(1) + " kW" : Math.sign(w) * Math.round(Math.abs(w)) + " W"; }
function upText(s) {
  const d = Math.floor(s / 86400), h = Math.floor(s % 86400 / 3600), m = Math.floor(s % 3600 / 60);
  return d ? d + " " + L.c_d + " " + h + " h" : h ? h + " h " + m + " min" : m ? m + " min" : s + " s";
}

// dates as numbers (days since 1970, months since year 0) and back, in UTC: no time zone games
const dayN = (d) => Date.UTC(+d.slice(0, 4), +d.slice(5, 7) - 1, +d.slice(8, 10)) / 864e5;
const dayS = (n) => new Date(n * 864e5).toISOString().slice(0, 10);
const monN = (d) => +d.slice(0, 4) * 12 + +d.slice(5, 7) - 1;
const monS = (n) => Math.floor(n / 12) + "-" + String(n % 12 + 1).padStart(2, "0");
const dateText = (d, o) => new Date(Date.UTC(+d.slice(0, 4), +d.slice(5, 7) - 1, +d.slice(8, 10) || 1))
  .toLocaleDateString(LANG, Object.assign({ timeZone: "UTC" }, o));

// n fixed slots ending with `last` (today, this month: still counting); a date with no
// record is an empty slot, so a bar is always one day (one month) wide
function slotsOf(recs, last, n, num, str) {
  const by = {};
  for (const r of recs) by[r.date] = r;
  const out = [], end = num(last.date);
  for (let k = n - 1; k >= 0; k--) {
    const d = str(end - k);
    out.push({ date: d, rec: k ? by[d] || null : last, run: !k });
  }
  return out;
}

// a round step (1, 2 or 5 x 10^n kWh) for 3 to 5 lines up to `max`, and its decimals
function scale(max) {
  const raw = max / 5, p = Math.pow(10, Math.floor(Math.log10(raw)));
  const step = [1, 2, 5, 10].map((m) => m * p).find((x) => x >= raw * 0.999);
  return { step: step, n: Math.ceil(max / step - 1e-9), dec: Math.max(0, -Math.floor(Math.log10(step) + 1e-9)) };
}

const charted = {};  // per chart: its slots, the one tapped, its geometry

// The bars, stacked by usage (colours: the legend's, from the page's style), drawn at the
// SVG's own width in CSS px, so its 12 px text stays 12 px on a phone
function draw(id) {
  const c = charted[id], svg = $("chart_" + id);
  if (!c || !svg) return;
  svg.style.display = "block";  // (hidden while empty: no blank box for a reader without the script)
  const W = Math.max(280, Math.round(svg.getBoundingClientRect().width || 600)), H = 180, top = 20, bot = 22;
  const sc = scale(Math.max(...c.slots.map((s) => s.rec ? s.rec.wh : 0)) / 1000 || 1), full = sc.n * sc.step;
  const lab = (k) => (k * sc.step).toFixed(sc.dec);
  const left = 8 + 7 * lab(sc.n).length, ph = H - top - bot, sw = (W - left - 4) / c.slots.length;
  const gap = Math.max(1, sw * 0.12), y = (v) => top + ph * (1 - v / full), f = (v) => v.toFixed(1);
  Object.assign(c, { W: W, left: left, sw: sw });
  svg.setAttribute("viewBox", "0 0 " + W + " " + H);
  let out = '<defs><pattern id="hatch_' + id + '" width="5" height="5" patternUnits="userSpaceOnUse" ' +
    'patternTransform="rotate(45)"><rect width="2" height="5" fill="#fff" fill-opacity=".75"/></pattern></defs>' +
    '<text x="2" y="12">kWh</text>';
  if (c.sel != null) out += '<rect x="' + f(left + c.sel * sw) + '" y="' + top + '" width="' + f(sw) + '" height="' + ph + '" fill="#e8eefc"/>';
  for (let k = 0; k <= sc.n; k++)
    out += '<line x1="' + left + '" x2="' + (W - 4) + '" y1="' + f(y(k * sc.step)) + '" y2="' + f(y(k * sc.step)) +
      '" stroke="' + (k ? "#e4e4e4" : "#999") + '"/><text x="' + (left - 4) + '" y="' + f(y(k * sc.step) + 4) +
      '" text-anchor="end">' + lab(k) + "</text>";
  const every = Math.ceil((c.days ? 24 : 38) / sw);
  c.slots.forEach((s, k) => {
    const x = left + k * sw + gap, w = sw - 2 * gap, r = s.rec;
    let v = 0;
    if (r) for (const u of USAGES) {
      const e = r.usage[u].wh / 1000;
      if (e <= 0) continue;
      out += '<rect class="f_' + u + '" data-d="' + s.date + '" x="' + f(x) + '" y="' + f(y(v + e)) + '" width="' + f(w) + '" height="' + f(y(v) - y(v + e)) + '"/>';
      v += e;
    }
    if (s.run)  // still counting: its bar hatched, its slot outlined (seen with nothing counted yet too)
      out += '<rect class="run" x="' + f(x) + '" y="' + f(y(v)) + '" width="' + f(w) + '" height="' + f(y(0) - y(v)) +
        '" fill="url(#hatch_' + id + ')"/><rect x="' + f(x) + '" y="' + top + '" width="' + f(w) + '" height="' + ph +
        '" fill="none" stroke="#555" stroke-dasharray="3 2"/>';
    if ((c.slots.length - 1 - k) % every === 0)
      out += '<text x="' + f(left + (k + 0.5) * sw) + '" y="' + (H - 6) + '" text-anchor="middle">' +
        (c.days ? +s.date.slice(8) : dateText(s.date, { month: "short" })) + "</text>";
  });
  svg.innerHTML = out;
}

// the caption: the tapped (or pointed at) bar's date and figures, in words a phone shows
function caption(id) {
  const c = charted[id], s = c.slots[c.sel], r = s.rec;
  let t = dateText(s.date, c.days ? { weekday: "short", day: "numeric", month: "short", year: "numeric" } :
    { month: "long", year: "numeric" }) + (s.run ? " (" + L.c_so_far + ")" : "") + ": ";
  if (!r) t += "-";
  else {
    t += L.total + " " + kwh(r.wh) + " kWh \u00b7 " + r.cost.toFixed(2) + " " + c.cur;
    for (const u of USAGES) if (r.usage[u].wh) t += " \u00b7 " + L[u] + " " + kwh(r.usage[u].wh);
  }
  set("cap_" + id, t);
}

function chart(id, slots, days, cur, note) {
  const svg = $("chart_" + id);
  if (!svg) return;
  const c = charted[id] = { slots: slots, days: days, cur: cur, sel: slots.length - 1 };
  set("note_" + id, note);
  const pick = (e) => {
    const r = svg.getBoundingClientRect(), k = Math.floor(((e.clientX - r.left) * c.W / r.width - c.left) / c.sw);
    if (k >= 0 && k < c.slots.length && k !== c.sel) { c.sel = k; draw(id); caption(id); }
  };
  svg.onclick = pick; svg.onmousemove = pick;
  draw(id); caption(id);
}

// today's and this month's bars follow the live figures; a new day (or the date now
// known) draws the charts again
function live(s) {
  if (!s.today) return;
  const d = charted.days;
  if (!d || d.slots[d.slots.length - 1].date !== s.today.date) { charts(); return; }
  for (const [id, r] of [["days", s.today], ["months", s.month]]) {
    const c = charted[id];
    c.slots[c.slots.length - 1].rec = r; draw(id);
    if (c.sel === c.slots.length - 1) caption(id);
  }
}

let charting = false;
async function charts() {
  if (charting) return;
  charting = true;
  try {
    const s = await (await fetch("/api/state")).json();
    if (!s.today) {  // no date yet: nothing to put a bar on
      for (const id of ["days", "months"]) { set("note_" + id, L.c_no_date); set("cap_" + id, ""); }
      return;
    }
    const days = await (await fetch("/api/history?days=30")).json();
    const next = dayS(dayN(s.today.date) + 1), first = monS(monN(s.month.date) + 1) + "-01";
    chart("days", slotsOf(days, s.today, 31, dayN, dayS), true, s.currency,
      days.length ? "" : fmt(L.c_no_days, [dateText(next, { weekday: "long", day: "numeric", month: "long" })]));
    const months = await (await fetch("/api/history?months=11")).json();
    chart("months", slotsOf(months, s.month, 12, monN, monS), false, s.currency,
      months.length ? "" : fmt(L.c_no_months, [dateText(first, { day: "numeric", month: "long", year: "numeric" })]));
  } catch (e) { /* the meter is restarting: the next round draws them */ } finally { charting = false; }
}
window.addEventListener("resize", () => { draw("days"); draw("months"); });

// ---- issue 22, slice "page": page.py's power_text, mains_text, standby_text; the CT fix ----
const f2 = (x) => x.toFixed(2);
function powerText(s, i) {
  const o = [], sb = s.standby || {}, k = i.id - 1, w = (sb.w_inputs || [])[k], y = sb.kwh_year_inputs || [], c = sb.cost_year_inputs || [];
  if (i.w < 0) o.push(L.pq_back);
  if (i.va != null) o.push(watts(i.va).slice(0, -1) + "VA");
  if (i.pf != null) i.method === "vi" ? o.push(fmt(L.pq_pf, [f2(i.pf)]), L.pq_vi) : o.push(fmt(L.pq_est, [f2(i.pf)]));
  if (i.export_wh) o.push(fmt(L.pq_exp, [i.export_kwh || kwh(i.export_wh)]));
  if (w != null) o.push(fmt(L.pq_sb, [watts(w)]) + (y[k] != null && c[k] != null ? " (" + fmt(L.sb_year, [Math.round(y[k]), f2(c[k]), s.currency]) + ")" : ""));
  return o.join(" \u00b7 ");
}
function power22(s) {
  for (const i of s.inputs) {
    const x = $("ix" + i.id);
    if (!x) continue;
    x.querySelector(".pq").textContent = powerText(s, i);
    const f = x.querySelector("form");
    if (i.reversed && !f) {  // page.py's _FIX
      const n = x.cells[0].appendChild(document.createElement("form"));
      n.className = "fix"; n.method = "post"; n.action = "/form/flip";
      n.innerHTML = '<input type="hidden" name="input" value="' + i.id + '"><input type="hidden" name="ct_flip" value="1">' +
        '<input type="hidden" name="lang" value="' + LANG + '"><b></b> <button></button>';
      n.querySelector("b").textContent = L.ct_rev; n.querySelector("button").textContent = L.ct_fix;
    } else if (!i.reversed && f) f.remove();
  }
  const m = s.mains, sb = s.standby, d = s.today && s.today.export_wh, r = $("u_export");
  set("mains", !m ? "" : m.reference ? fmt(L.mains_ref, [m.v == null ? "-" : m.v.toFixed(1), m.hz == null ? "-" : f2(m.hz)]) : L.mains_none);
  set("standby", !sb ? "" : sb.w == null ? fmt(L.sb_none, [sb.window || "-"]) : fmt(L.sb_line, [sb.window || "-", sb.night || "-",
    watts(sb.w), Math.round(sb.kwh_year || 0), f2(sb.cost_year || 0), s.currency]));
  const sum = (v) => v ? kwh(v.reduce((a, b) => a + b, 0)) : "-";
  if (r && d) { r.querySelector(".d").textContent = sum(d); r.querySelector(".m").textContent = sum(s.month && s.month.export_wh); }
}
// the fix: ct_flip turned through /api/config (without the script: /form/flip)
document.addEventListener("submit", async (ev) => {
  const f = ev.target, k = f.classList.contains("fix") && f.elements.input.value - 1;
  if (k === false) return;
  ev.preventDefault();
  try {
    const c = await (await fetch("/api/config", { cache: "no-store" })).json();
    await refused(await post("/api/config", JSON.stringify({ inputs: c.inputs.map((x, j) => j === k ? { ct_flip: !x.ct_flip } : {}) })));
  } catch (e) { }
  tick();
});
// ---- end of slice "page" ----

// Commands need the meter's password: post() and the dialog are pw.js's (loaded first).
// A refusal other than the password's (which pw.js says in its dialog) is shown as the
// meter words it.
const refused = async (r) => { if (r && !r.ok) alert((await r.text()).replace(/^\d{3} [^:]*: /, "")); };

$("reset").onclick = async () => {
  if (!confirm(L.confirm)) return;
  await refused(await post("/api/reset", '{"counter":"all"}'));
  tick();
};

const setpw = $("setpw");
if (setpw) setpw.onclick = async () => {
  const r = await setPassword();
  if (r && r.ok) location.reload(); else await refused(r);
};

setInterval(tick, 2000);
charts();
setInterval(charts, 600000);
