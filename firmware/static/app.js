// The page's script (served gzipped from the meter's flash as /app.js): live figures from
// /api/state every 2 s, the panel's mirror, the history charts, and the commands (which
// ask for the meter's password: pw.js). The page reads fine without it: the meter fills it in.
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
    const l = L["h_" + g.hint].split("|").map((x) => x.trim());
    const s = L.grid + ": " + l[0] + ": " + l.slice(1).join(" ");
    return g.hint.startsWith("p1") || g.hint === "silent" ? s + " " + L.p1_portal : s;
  }
  const r = g.reading;
  if (!r) return L.grid + ": " + (g.port || "-") + " \u2026";
  const p = r.source === "p1" ? (r.export_w && !r.power_w ? "P- " + r.export_w + " W" : "P+ " + (r.power_w ?? "-") + " W") :
    r.power_va != null ? r.power_va + " VA" : r.power_w != null ? r.power_w + " W" : "-";
  const al = (r.alerts || []).map(a => " \u00b7 " + (a.startsWith("phase_lost_") ?
    L.al_phase.replace("%d", a.slice(11)) : L["al_" + a] || a)).join("");
  return L.grid + ": " + r.source + " \u00b7 " + (r.period || "-") + " \u00b7 " + p + al;
}

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
    set("total_w", s.total_w.toFixed(1)); set("total_kwh", s.total_kwh); set("total_cost", s.total_cost.toFixed(2));
    set("uptime", s.uptime_s); set("grid", gridText(s.grid)); set("volumes", volText(s));
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
    set("lcd_note", s.panel === "asleep" ? L.lcd_asleep : "");  // the mirror shows it asleep too
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
