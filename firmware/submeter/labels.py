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
    },
}


def labels(lang):
    return _T.get(lang) or _T["en"]
