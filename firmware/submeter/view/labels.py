# Screen and page labels, English and French. Keys are short to keep the table small.
# One constant tuple, a row per label (key, English, French): frozen into the image it
# stays in flash, where two dicts of ~100 labels each were built in the heap (1.5 KB).
_ROWS = (
    "heating", "Heating", "Chauffage",
    "cooling", "Cooling", "Refroid.",
    "hot_water", "Hot water", "Eau chaude",
    "sockets", "Sockets", "Prises",
    "other", "Other", "Autres",
    "total", "Total", "Total",
    "now", "Now", "Actuel",
    "title", "Energy sub-meter", "Sous-compteur",
    "input", "Input", "Entrée",
    "usage", "Usage", "Usage",
    "power", "Power", "Puissance",
    "energy", "Energy", "Énergie",
    "cost", "Cost", "Coût",
    "current", "Current", "Courant",
    "partial", "Partial", "Partiel",
    "uptime", "Uptime", "En marche",
    "grid", "Grid meter", "Compteur",
    "gas", "Gas", "Gaz",
    "water", "Water", "Eau",
    "month", "This month", "Ce mois",
    "last_month", "Last month", "Mois dernier",
    "partial_reset", "Partial reset", "Partiel à zéro",
    "reset", "Reset partial counters", "Remettre les partiels à zéro",
    "since", "since", "depuis",
    "time", "Time", "Heure",
    "today", "Today", "Aujourd’hui",
    "confirm", "Reset every partial counter to zero?", "Remettre tous les compteurs partiels à zéro ?",
    "panel", "Front panel", "Afficheur",
    "days", "Last 31 days", "31 derniers jours",
    "months", "Last 12 months", "12 derniers mois",
    "csv_days", "Daily history (CSV)", "Historique par jour (CSV)",
    "csv_months", "Monthly history (CSV)", "Historique par mois (CSV)",
    "pw", "Pass", "Mdp",
    "pw_q", "The meter's password (the first one is on its Network screen)", "Mot de passe du compteur (le premier est sur son écran Réseau)",
    "pw_hint", "Changes need a password: the first one is on the meter's Network screen. Set your own:", "Les changements demandent un mot de passe : le premier est sur l’écran Réseau du compteur. Choisissez le vôtre :",
    "set_pw", "Set a password", "Choisir un mot de passe",
    "new_pw", "New password (8 characters or more)", "Nouveau mot de passe (8 caractères ou plus)",
    "meter", "Meter", "Compteur",
    "day", "Today", "Jour",
    "mo", "Month", "Mois",
    "flow", "Flow", "Débit",
    "no_grid", "none configured", "aucun",
    "waiting", "listening on", "écoute sur",
    "tempo", "Tempo", "Tempo",
    "blue", "blue", "bleu",
    "white", "white", "blanc",
    "red", "red", "rouge",
    "index", "Index", "Index",
    "inject", "Export", "Inj.",
    "network", "Network", "Réseau",
    "link", "Link", "Lien",
    "up", "up", "actif",
    "down", "down", "coupé",
    "off", "off", "arrêt",
    "flash_err", "Flash err", "Err flash",
    "http_rej", "HTTP rej", "Rejets HTTP",
    "grid_err", "Grid err", "Err compt.",
    "late", "Late", "Retards",
    "ctr_lost", "Lost>%s", "Perdu>%s",
    "ctr_zero", "Counts at 0", "Cpt remis à 0",
    "overload", "OVERLOAD", "DÉPASSEMENT",
    "over_1", "Above the", "Puissance sousc.",
    "over_2", "subscribed power", "dépassée",
    "ack", "ok: seen", "ok: vu",
    "reset_q", "Reset partial?", "Remise à zéro ?",
    "yes_no", "ok:yes back:no", "ok:oui back:non",
    "zero_q", "Zero input %s?", "Zéro entrée %s ?",
    "zero_off", "Switch circuit", "Couper circuit",
    "zero_off2", "%s off first", "%s d’abord",
    "zeroing", "Zeroing %d%%", "Mise à 0 %d%%",
    "zero_done", "Zeroed", "Zéro fait",
    "zero_bad", "Not off: kept", "Pas coupé:gardé",
    "zero", "Zero", "Zéro",
    "n_watchdog", "Restarted by the watchdog: the metering had stopped (%d such resets in all)", "Redémarré par le chien de garde : le comptage s’était arrêté (%d fois en tout)",
    "al_phase", "Phase %d lost", "Phase %d absente",
    "al_overvoltage", "Overvoltage", "Surtension",
    "al_cover_opened", "Cover opened", "Cache ouvert",
    "al_memory_error", "Meter mem error", "Err mémoire cpt",
    "al_index_refused", "Index refused", "Index refusé",
    "al_lossy_resets", "Meter resets", "Redémarrages cpt",
    "al_ejp_notice", "EJP in 30 min", "EJP dans 30 min",
    "al_overload", "Overload", "Dépassement",
    "al_breaker_open", "Breaker open", "Coupure ouverte",
    "al_breaker_ready", "Press meter btn", "Réarmer compteur",
    "phases", "Phases", "Phases",
    "ph_in", "In", "Ent",
    "ph_move", "Move %d L%d>L%d", "Déplacer %d L%d>L%d",
    "limit", "Limit", "Limite",
    "max", "Max", "Max",
    "ph_hint", "Move input %d (%s) from L%d to L%d: %d A apart now, %d A after", "Déplacer l’entrée %d (%s) de L%d vers L%d : écart %d A, puis %d A",
    "peak", "Peak", "Pointe",
    "pmax", "Highest power the meter has seen (PMAX)", "Puissance maximale vue par le compteur (PMAX)",
    "h_p1_silent", "No P1 data|1 port opened at|  grid operator?|2 cable plugged?|3 Data Request?", "Aucune donnée P1|1 port ouvert|  par le GRD ?|2 câble branché?|3 Data Request?",
    "h_tic_silent", "No TIC data|1 I1, I2 wired?|2 wires intact?", "Aucune TIC|1 I1 I2 câblés ?|2 fils intacts ?",
    "h_silent", "No meter data|TIC: I1 I2 ok?|P1: port opened|  by operator?|  cable? DR?", "Aucune donnée|TIC : I1 I2 ?|P1 : port ouvert|  par le GRD ?|  câble ? DR ?",
    "h_garbled", "Bad meter data|1 cable, noise?|2 meter mode?|3 inverted line?", "Données erronées|1 câble, bruit ?|2 mode compteur?|3 ligne inversée",
    "p1_portal", "In Belgium Fluvius keeps the P1 port closed until you open it on Mijn Fluvius (it may need renewing).", "En Belgique, Fluvius garde le port P1 fermé tant que vous ne l’ouvrez pas sur Mijn Fluvius (à renouveler parfois).",
    # -- calibration (issue 20): the scale calibration's panel flow (panel/screens.py) --
    "cal", "Calibrate", "Calibrer",
    "cal_pick", "Which input?", "Quelle entrée ?",
    "cal_keys0", "+/-  ok:next", "+/-  ok:suite",
    "cal_on", "Known load on,", "Charge connue,",
    "cal_on2", "others off", "autres coupées",
    "cal_keys1", "+/- W  ok:start", "+/- W  ok:lancer",
    "cal_run", "Measuring %d%%", "Mesure %d %%",
    "cal_keep", "Keep load on", "Laisser allumée",
    "cal_done", "Calibrated", "Calibré",
    "cal_bad", "Not calibrated", "Non calibré",
    "cal_busy", "Busy: try later", "Attendez la fin",
    "cal_true", "Load", "Charge",
    "cal_read", "Read", "Lu",
    "cal_ratio", "Ratio", "Ratio",
    "cf_no_load", "No load seen|Load on? On this|circuit?", "Aucune charge|Allumée ? Sur ce|circuit ?",
    "cf_unsteady", "Load unsteady|Switch the other|loads off", "Charge instable|Couper les|autres charges",
    "cf_off", "Over 2x off:|wrong circuit|or wrong watts?", "Écart > 2x :|mauvais circuit|ou mauvais W ?",
    "cf_clipped", "Input clips:|CT or burden|too big", "Entrée saturée|TC ou résistance|trop grands",
    "cf_range", "Ratio out of|range", "Rapport hors|limites",
    "cf_changed", "Ratio changed|meanwhile", "Rapport changé|entre-temps",
    "cf_not_saved", "Not saved|(flash full?)", "Non enregistré|(flash plein ?)",
    # -- panel (issue 20): the long press on home, the uptime, the display asleep
    "all_partials", "All partials", "Tous partiels",
    "on_for", "Uptime", "Allumé",
    "asleep", "Display asleep", "Écran en veille",
    "wake", "Press to wake", "Appui : réveil",
    "lcd_asleep", "The display is asleep: a button press wakes it.", "L’écran est en veille : un appui sur un bouton le réveille.",
    # (MQTT: the sensors' names Home Assistant shows, by object id; a usage's: mq_w, mq_kwh)
    "mq_w", "%s power", "Puissance %s",
    "mq_kwh", "%s energy", "Énergie %s",
    "mq_total_w", "Power", "Puissance",
    "mq_total_kwh", "Energy", "Énergie",
    "mq_meter_alert", "Meter alert", "Alerte du compteur",
    "mq_gas_m3", "Gas", "Gaz",
    "mq_gas_kwh", "Gas energy", "Énergie gaz",
    "mq_water_m3", "Water", "Eau",
    "mq_grid_va", "Grid power", "Puissance réseau",
    "mq_grid_kwh", "Grid import", "Soutirage réseau",
    "mq_tariff", "Tariff period", "Période tarifaire",
    "mq_grid_alerts", "Grid meter alerts", "Alertes du compteur réseau",
    "mq_notices", "Meter notices", "Avis du compteur",
    # settings (issue 20, the "settings" slice): the page's link to the settings page
    "settings", "Settings", "Réglages",
    # the page's name of a usage where the panel's is cut short (net/page.py usage_name)
    "pg_cooling", "Cooling", "Refroidissement",
    # -- "charts" (issue 20): the page's charts, language, uptime, time source
    "c_run", "Today and this month, still counting", "Aujourd'hui et ce mois, en cours",
    "c_d", "d", "j",
    "c_src_meter", "grid meter", "compteur",
    "c_src_ntp", "NTP", "NTP",
    "c_src_rtc", "board clock", "horloge interne",
    "c_src_set", "set by hand", "réglée à la main",
    "c_no_date", "No history yet: it starts once the meter knows the date (from the grid meter or the network).", "Pas encore d'historique : il commence dès que le sous-compteur connaît la date (par le compteur électrique ou le réseau).",
    "c_no_days", "No history yet: a day is kept at midnight, the first one tomorrow, %s; until then the hatched bar is today so far.", "Pas encore d'historique : un jour est enregistré à minuit, le premier demain, %s ; d'ici là, la barre hachurée est aujourd'hui, en cours.",
    "c_no_months", "No month kept yet: a month is kept when it ends, the first on %s; until then the hatched bar is this month so far.", "Aucun mois enregistré : un mois l'est à sa fin, le premier le %s ; d'ici là, la barre hachurée est ce mois, en cours.",
    "c_so_far", "so far", "en cours",
    "c_noscript", "The charts need JavaScript; the CSV files below hold the same history.", "Les graphiques demandent JavaScript ; les fichiers CSV ci-dessous ont le même historique.",
    # slice "grid" (issue 20): the grid meter in full on the page, the C2000 output hints
    "h_tic_veille", "Serial no. only|C2000 in VEILLE|mode: set its|output TELEIN|(prog. param 7)", "N° série seul|C2000 en VEILLE|mettre sa sortie|en TELEIN|(prog. param. 7)",
    "h_tic_pulses", "Pulses, no TIC|1 C2000 METROL?|  set TELEIN|2 wires, noise?", "Impulsions|1 C2000 METROL ?|  mettre TELEIN|2 fils, bruit ?",
    "hx_tic_veille", "The meter sends only its serial number (ADCO): a SAGEM C2000 whose customer output is still in VEILLE mode, as delivered. Have it set to TELEIN (parameter 7 of the meter's local programming, usually done by the grid operator's technician).", "Le compteur n'envoie que son numéro de série (ADCO) : un SAGEM C2000 dont la sortie de téléinformation client est encore en mode VEILLE, comme à la livraison. Faites-la régler sur TELEIN (paramètre 7 de la programmation locale du compteur, en général par le technicien du gestionnaire de réseau).",
    "hx_tic_pulses", "The TIC line carries short pulses but never a frame: a SAGEM C2000 whose customer output is in METROL mode (a pulse per Wh). Have it set to TELEIN (parameter 7 of the meter's local programming, usually done by the grid operator's technician). Otherwise: interference, or a loose I1/I2 wire.", "La ligne TIC porte de brèves impulsions mais jamais une trame : un SAGEM C2000 dont la sortie de téléinformation client est en mode METROL (une impulsion par Wh). Faites-la régler sur TELEIN (paramètre 7 de la programmation locale du compteur, en général par le technicien du gestionnaire de réseau). Sinon : parasites, ou un fil I1/I2 mal serré.",
    "src_tic_historic", "TIC, historic mode", "TIC, mode historique",
    "src_tic_standard", "TIC, standard mode", "TIC, mode standard",
    "src_p1", "P1 port", "Port P1",
    "gr_model", "Meter", "Compteur",
    "gr_serial", "Serial number", "Numéro de série",
    "gr_version", "Version", "Version",
    "gr_prm", "Delivery point (PRM)", "Point de livraison (PRM)",
    "gr_option", "Tariff option", "Option tarifaire",
    "gr_period", "Running period", "Période en cours",
    "gr_now", "now", "en cours",
    "gr_import", "Import, total", "Soutirage, total",
    "gr_export", "Export, total", "Injection, total",
    "gr_exp_t", "Export", "Injection",
    "gr_power", "Power drawn", "Puissance soutirée",
    "gr_power_x", "Power injected", "Puissance injectée",
    "gr_va", "Apparent power drawn", "Puissance apparente soutirée",
    "gr_va_x", "Apparent power injected", "Puissance apparente injectée",
    "gr_demand", "Average demand (15 min)", "Puissance moyenne (15 min)",
    "gr_volts", "Voltage", "Tension",
    "gr_amps", "Current", "Courant",
    "gr_ph_w", "Power per phase", "Puissance par phase",
    "gr_ph_x", "Injected per phase", "Injection par phase",
    "gr_sub", "Subscribed power", "Puissance souscrite",
    "gr_cut", "Cut-off power", "Puissance de coupure",
    "gr_limiter", "Limiter", "Limiteur",
    "gr_fuse", "Fuse supervision", "Surveillance du fusible",
    "gr_none", "none", "aucune",
    "gr_nolimit", "no limit", "sans limite",
    "gr_peak", "Peak this month (15 min)", "Pointe du mois (15 min)",
    "gr_peaks", "Monthly peaks", "Pointes mensuelles",
    "gr_pmax", "Highest power seen", "Puissance maximale atteinte",
    "gr_imax", "Highest current seen", "Intensité maximale atteinte",
    "gr_smax", "Highest today", "Maximum du jour",
    "gr_smax1", "Highest yesterday", "Maximum de la veille",
    "gr_tempo", "Tempo today, tomorrow", "Tempo aujourd'hui, demain",
    "gr_alerts", "Alerts", "Alertes",
    "gr_msg", "Message", "Message",
    "gr_gas", "Gas, relayed by the meter (M-Bus)", "Gaz, relayé par le compteur (M-Bus)",
    "gr_water", "Water, relayed by the meter (M-Bus)", "Eau, relayée par le compteur (M-Bus)",
    "gr_time", "Meter's time", "Heure du compteur",
    "gr_frames", "Frames received (errors)", "Trames reçues (erreurs)",
    # issue 21, slice "ha": the grid power of a P1 meter (active power, W; a TIC's is VA: mq_grid_va)
    "mq_grid_w", "Grid power", "Puissance réseau",
    # issue 21, upgrades over Ethernet (net/upgrade.py): the notices after one
    "n_upgraded", "Upgraded over the network to version %s: it came up healthy and is kept", "Mis à jour par le réseau en version %s : démarrée sans erreur, elle est gardée",
    # issue 21, the sensors users ask for (net/mqtt.py sensors): their names in Home Assistant
    "mq_ucost", "%s cost", "Coût %s",
    "mq_cost", "Energy cost", "Coût de l’énergie",
    "mq_grid_i", "Grid import %s", "Soutirage réseau %s",
    "mq_grid_exp_kwh", "Grid export", "Injection réseau",
    "mq_grid_exp_w", "Grid export power", "Puissance injectée",
    "mq_grid_exp_va", "Grid export power", "Puissance injectée",
    "mq_tempo_today", "Tempo today", "Tempo aujourd’hui",
    "mq_tempo_tomorrow", "Tempo tomorrow", "Tempo demain",
    "mq_demand_w", "Quarter-hour demand", "Puissance du quart d’heure",
    "mq_capacity_warn", "New monthly peak ahead", "Nouveau pic mensuel en vue",
    "mq_peak_w", "Month peak demand", "Pic du mois",
    "mq_grid_v", "Voltage %s", "Tension %s",
    "mq_grid_a", "Current %s", "Intensité %s",
    "mq_grid_p", "Power %s", "Puissance %s",
    "mq_mbus_gas_m3", "Gas (grid meter)", "Gaz (compteur réseau)",
    "mq_mbus_water_m3", "Water (grid meter)", "Eau (compteur réseau)",
    "mq_alert_overload", "Overload", "Dépassement",
    "mq_alert_phase", "Phase missing", "Phase absente",
    "mq_alert_breaker", "Breaker open", "Organe de coupure ouvert",
    "mq_alert_cover", "Cover opened", "Cache ouvert",
    "mq_alert_overvoltage", "Overvoltage", "Surtension",
    "n_rolled_back", "The upgrade to version %s did not come up healthy: the meter went back to the firmware it had", "La mise à jour en version %s n’a pas démarré correctement : le compteur est revenu au micrologiciel d’avant",
    # issue 21, slice "tls": the page's line while MQTT is not connected (net/page.py), then why
    "mqtt_down", "MQTT not connected (%s): %s", "MQTT non connecté (%s) : %s",
    # issue 22, slice "mqtt": Home Assistant's names of the per-input, mains and standby
    # sensors (net/mqtt.py _own; %s: the input's name, else "Input k"), and the panel's
    "mq_in_w", "%s power", "Puissance %s",
    "mq_in_va", "%s apparent power", "Puissance apparente %s",
    "mq_in_pf", "%s power factor", "Facteur de puissance %s",
    "mq_in_exp_kwh", "%s energy given back", "Énergie restituée %s",
    "mq_in_reversed", "%s CT reversed?", "TC inversé ? %s",
    "mq_in_standby_w", "%s standby", "Veille %s",
    "mq_mains_v", "Mains voltage", "Tension secteur",
    "mq_mains_hz", "Mains frequency", "Fréquence secteur",
    "mq_standby_w", "Standby power", "Puissance de veille",
    "mq_standby_kwh_year", "Standby energy a year", "Énergie de veille par an",
    "mq_standby_cost_year", "Standby cost a year", "Coût de veille par an",
    "pn_inputs", "Inputs", "Entrées",
    "pn_pf_set", "pf set", "pf fixé",
    "pn_ct_rev", "CT %d reversed?", "TC %d inversé ?",
    "pn_ct_tag", "CT?", "TC?",
    "pn_given", "Back", "Rendu",
    "pn_standby", "Standby", "Veille",
    "pn_sb_none", "No night yet", "Nuit à venir",
    "pn_per_yr", "/yr", "/an",
    # issue 22, slice "page": real power, its method, direction, export, standby, the CT fix (net/page.py, app.js)
    "pq_back", "\u2190 giving back", "\u2190 réinjecte",
    "pq_pf", "pf %s", "cos \u03c6 %s",
    "pq_vi", "measured (voltage reference)", "mesurée (référence de tension)",
    "pq_est", "estimated: V \u00d7 A \u00d7 pf %s", "estimée : V \u00d7 A \u00d7 cos \u03c6 %s",
    "pq_exp", "given back %s kWh", "réinjecté %s kWh",
    "pq_sb", "standby %s", "veille %s",
    "sb_line", "Standby (the night's base load, %s, night of %s): %s \u00b7 %s kWh \u00b7 %s %s a year", "Veille (consommation de base la nuit, %s, nuit du %s) : %s \u00b7 %s kWh \u00b7 %s %s par an",
    "sb_none", "Standby: not measured yet (the night's base load, %s)", "Veille : pas encore mesurée (consommation de base la nuit, %s)",
    "sb_year", "%s kWh, %s %s a year", "%s kWh, %s %s par an",
    "mains_ref", "Voltage reference: %s V \u00b7 %s Hz; power, power factor and direction measured", "Référence de tension : %s V \u00b7 %s Hz ; puissance, cos \u03c6 et sens mesurés",
    "mains_none", "No voltage reference fitted: power estimated as V \u00d7 A \u00d7 each input's set power factor, direction not seen", "Pas de référence de tension : puissance estimée (V \u00d7 A \u00d7 le cos \u03c6 réglé de chaque entrée), sens non mesuré",
    "ct_rev", "CT reversed?", "TC inversé ?",
    "ct_fix", "Fix: read this CT the other way round", "Corriger : lire ce TC dans l’autre sens",
    "ct_fixed", "Saved: input %s is read the other way round.", "Enregistré : l’entrée %s est lue dans l’autre sens.",
    "u_export", "Given back", "Réinjecté",
)
_LANGS = ("en", "fr")


class Labels:
    """One language's labels: t[key], t.get(key, default), key in t, as a dict would."""

    def __init__(self, col):
        self._col = col

    def get(self, key, default=None):
        i = -1
        try:
            while True:
                i = _ROWS.index(key, i + 1)
                if i % 3 == 0:
                    return _ROWS[i + self._col]
        except ValueError:
            return default

    def __contains__(self, key):
        return self.get(key, _ROWS) is not _ROWS

    def __getitem__(self, key):
        v = self.get(key, _ROWS)
        if v is _ROWS:
            raise KeyError(key)
        return v


def labels(lang):
    return Labels(_LANGS.index(lang) + 1 if lang in _LANGS else 1)


def notice_text(notice, t):
    """A notice of the snapshot (kind, data) in the user's words: ("watchdog", 2) from its
    label; one whose data has its own words (a dict with "text": the counters lost) in them."""
    code, arg = notice
    if isinstance(arg, dict):
        return arg["text"]
    return t.get("n_" + code, code + " %s") % arg


def alert_text(code, t):
    """A GridReading alert code ('phase_lost_3', 'overvoltage'...) in the user's words."""
    if code.startswith("phase_lost_"):
        return t["al_phase"] % int(code[11:])
    return t.get("al_" + code, code)
