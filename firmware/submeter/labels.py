# Screen and page labels, English and French. Keys are short to keep the table small.
_T = {
    "en": {
        "heating": "Heating", "cooling": "Cooling", "hot_water": "Hot water",
        "sockets": "Sockets", "other": "Other", "total": "Total", "now": "Now",
        "title": "Energy sub-meter", "input": "Input", "usage": "Usage", "power": "Power",
        "energy": "Energy", "cost": "Cost", "current": "Current", "partial": "Partial",
        "uptime": "Uptime", "grid": "Grid meter", "gas": "Gas", "water": "Water",
    },
    "fr": {
        "heating": "Chauffage", "cooling": "Refroid.", "hot_water": "Eau chaude",
        "sockets": "Prises", "other": "Autres", "total": "Total", "now": "Actuel",
        "title": "Sous-compteur", "input": "Entree", "usage": "Usage", "power": "Puissance",
        "energy": "Energie", "cost": "Cout", "current": "Courant", "partial": "Partiel",
        "uptime": "En marche", "grid": "Compteur", "gas": "Gaz", "water": "Eau",
    },
}


def labels(lang):
    return _T.get(lang) or _T["en"]
