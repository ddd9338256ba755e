# Screen and page labels, English and French. Keys are short to keep the table small.
_T = {
    "en": {
        "heating": "Heating", "cooling": "Cooling", "hot_water": "Hot water",
        "sockets": "Sockets", "other": "Other", "total": "Total", "now": "Now",
        "title": "Energy sub-meter", "input": "Input", "usage": "Usage", "power": "Power",
        "energy": "Energy", "cost": "Cost", "current": "Current", "partial": "Partial",
        "uptime": "Uptime", "grid": "Grid meter", "gas": "Gas", "water": "Water",
        "month": "This month", "last_month": "Last month", "partial_reset": "Partial reset",
        "reset": "Reset partial counters", "since": "since", "time": "Time", "today": "Today",
        "confirm": "Reset every partial counter to zero?",
        "panel": "Front panel", "days": "Last 31 days", "months": "Last 12 months",
        "csv_days": "Daily history (CSV)", "csv_months": "Monthly history (CSV)", "pw": "Pass", "pw_q": "The meter's password (the first one is on its Network screen)",
        "pw_hint": "Changes need a password: the first one is on the meter's Network screen. Set your own:",
        "set_pw": "Set a password", "new_pw": "New password (8 characters or more)",
        "meter": "Meter", "day": "Today", "mo": "Month", "flow": "Flow", "no_grid": "none configured", "waiting": "listening on",
        "tempo": "Tempo", "blue": "blue", "white": "white", "red": "red", "index": "Index",
        "inject": "Export", "network": "Network", "link": "Link", "up": "up", "down": "down",
        "off": "off", "flash_err": "Flash err", "http_rej": "HTTP rej", "grid_err": "Grid err",
        "late": "Late", "overload": "OVERLOAD", "over_1": "Above the", "over_2": "subscribed power",
        "ack": "ok: seen", "reset_q": "Reset partial?", "yes_no": "ok:yes back:no",
        "zero_q": "Zero input %s?", "zero_off": "Switch circuit", "zero_off2": "%s off first", "zeroing": "Zeroing %d%%",
        "zero_done": "Zeroed", "zero_bad": "Not off: kept", "zero": "Zero",
        "al_phase": "Phase %d lost", "al_overvoltage": "Overvoltage", "al_cover_opened": "Cover opened",
        "al_memory_error": "Meter mem error", "al_index_refused": "Index refused",
        "al_lossy_resets": "Meter resets", "al_ejp_notice": "EJP in 30 min", "al_overload": "Overload",
        "al_breaker_open": "Breaker open", "al_breaker_ready": "Press meter btn",
        "phases": "Phases", "ph_in": "In", "ph_move": "Move %d L%d>L%d", "limit": "Limit", "max": "Max",
        "ph_hint": "Move input %d (%s) from L%d to L%d: %d A apart now, %d A after", "peak": "Peak", "pmax": "Highest power the meter has seen (PMAX)",
        "h_p1_silent": "No P1 data|1 port opened at|  grid operator?|2 cable plugged?|3 Data Request?",
        "h_tic_silent": "No TIC data|1 I1, I2 wired?|2 wires intact?",
        "h_silent": "No meter data|TIC: I1 I2 ok?|P1: port opened|  by operator?|  cable? DR?",
        "h_garbled": "Bad meter data|1 cable, noise?|2 meter mode?|3 inverted line?",
        "p1_portal": "In Belgium Fluvius keeps the P1 port closed until you open it on Mijn Fluvius (it may need renewing).",
    },
    "fr": {
        "heating": "Chauffage", "cooling": "Refroid.", "hot_water": "Eau chaude",
        "sockets": "Prises", "other": "Autres", "total": "Total", "now": "Actuel",
        "title": "Sous-compteur", "input": "Entree", "usage": "Usage", "power": "Puissance",
        "energy": "Energie", "cost": "Cout", "current": "Courant", "partial": "Partiel",
        "uptime": "En marche", "grid": "Compteur", "gas": "Gaz", "water": "Eau",
        "month": "Ce mois", "last_month": "Mois dernier", "partial_reset": "Partiel a zero",
        "reset": "Remettre les partiels a zero", "since": "depuis", "time": "Heure",
        "today": "Aujourd'hui", "confirm": "Remettre tous les compteurs partiels a zero ?",
        "panel": "Afficheur", "days": "31 derniers jours", "months": "12 derniers mois",
        "csv_days": "Historique par jour (CSV)", "csv_months": "Historique par mois (CSV)", "pw": "Mdp", "pw_q": "Mot de passe du compteur (le premier est sur son ecran Reseau)",
        "pw_hint": "Les changements demandent un mot de passe : le premier est sur l'ecran Reseau du compteur. Choisissez le votre :",
        "set_pw": "Choisir un mot de passe", "new_pw": "Nouveau mot de passe (8 caracteres ou plus)",
        "meter": "Compteur", "day": "Jour", "mo": "Mois", "flow": "Debit", "no_grid": "aucun", "waiting": "ecoute sur",
        "tempo": "Tempo", "blue": "bleu", "white": "blanc", "red": "rouge", "index": "Index",
        "inject": "Injection", "network": "Reseau", "link": "Lien", "up": "actif", "down": "coupe",
        "off": "arret", "flash_err": "Err flash", "http_rej": "Rejets HTTP", "grid_err": "Err compt.",
        "late": "Retards", "overload": "DEPASSEMENT", "over_1": "Puissance sousc.", "over_2": "depassee",
        "ack": "ok: vu", "reset_q": "Remise a zero ?", "yes_no": "ok:oui back:non",
        "zero_q": "Zero entree %s?", "zero_off": "Couper circuit", "zero_off2": "%s d'abord", "zeroing": "Mise a 0 %d%%",
        "zero_done": "Zero fait", "zero_bad": "Pas coupe: garde", "zero": "Zero",
        "al_phase": "Phase %d absente", "al_overvoltage": "Surtension", "al_cover_opened": "Cache ouvert",
        "al_memory_error": "Err memoire cpt", "al_index_refused": "Index refuse",
        "al_lossy_resets": "Resets compteur", "al_ejp_notice": "EJP dans 30 min", "al_overload": "Depassement",
        "al_breaker_open": "Coupure ouverte", "al_breaker_ready": "Rearmer compteur",
        "phases": "Phases", "ph_in": "Ent", "ph_move": "Deplacer %d L%d>L%d", "limit": "Limite", "max": "Max",
        "ph_hint": "Deplacer l'entree %d (%s) de L%d vers L%d : ecart %d A, puis %d A", "peak": "Pointe", "pmax": "Puissance maximale vue par le compteur (PMAX)",
        "h_p1_silent": "Aucune donnee P1|1 port ouvert|  par le GRD ?|2 cable branche?|3 Data Request?",
        "h_tic_silent": "Aucune TIC|1 I1, I2 cables?|2 fils intacts ?",
        "h_silent": "Aucune donnee|TIC: I1 I2 ?|P1: port ouvert|  par le GRD ?|  cable ? DR ?",
        "h_garbled": "Donnees erronees|1 cable, bruit ?|2 mode compteur?|3 ligne inversee",
        "p1_portal": "En Belgique, Fluvius garde le port P1 ferme tant que vous ne l'ouvrez pas sur Mijn Fluvius (a renouveler parfois).",
    },
}


def labels(lang):
    return _T.get(lang) or _T["en"]


def alert_text(code, t):
    """A GridReading alert code ('phase_lost_3', 'overvoltage'...) in the user's words."""
    if code.startswith("phase_lost_"):
        return t["al_phase"] % int(code[11:])
    return t.get("al_" + code, code)
