"""Word lists and sentence templates for the demo generator (names, titles, legal-ish text).

Everything here is invented: organisations, people and texts are plausible, not real.
"""

from __future__ import annotations

# (name, short name, home country, slug for e-mail addresses, extra countries it works in)
ORGANISATIONS: tuple[tuple[str, str, str, str, tuple[str, ...]], ...] = (
    ("Aegean Refugee Legal Aid", "ARLA", "GR", "aegean-legal-aid", ("CY", "BG", "TR", "IT")),
    (
        "Associazione per i Diritti dei Migranti",
        "ADM",
        "IT",
        "diritti-migranti",
        ("MT", "FR", "LY", "TN"),
    ),
    (
        "Clínica Jurídica de Migración y Asilo",
        "CJMA",
        "ES",
        "clinica-migracion",
        ("MA", "PT", "FR"),
    ),
    ("Collectif Juridique Frontières", "CJF", "FR", "collectif-frontieres", ("BE", "CH", "LU")),
    ("Netzwerk Flüchtlingsrecht", "NFR", "DE", "netzwerk-fluechtlingsrecht", ("AT", "PL", "CZ")),
    ("Migrant Justice Law Centre", "MJLC", "GB", "migrant-justice", ("IE", "FR", "RW")),
    (
        "Centro de Derechos Humanos del Migrante",
        "CDHM",
        "MX",
        "cdh-migrante",
        ("GT", "HN", "SV", "US"),
    ),
    ("Border Rights Litigation Project", "BRLP", "US", "border-rights", ("MX", "CA", "PA")),
    ("Colectivo Jurídico Éxodo", "CJE", "CO", "colectivo-exodo", ("VE", "EC", "PE", "PA")),
    ("Cape Refugee Rights Law Clinic", "CRRLC", "ZA", "cape-refugee-clinic", ("ZW", "MZ", "BW")),
    (
        "East African Migrant Rights Initiative",
        "EAMRI",
        "KE",
        "eamri",
        ("UG", "TZ", "ET", "SO", "SS"),
    ),
    (
        "Réseau Sahel pour les Droits des Migrants",
        "RSDM",
        "SN",
        "reseau-sahel",
        ("ML", "NE", "MR", "BF"),
    ),
    (
        "Mediterranean Strategic Litigation Centre",
        "MSLC",
        "MT",
        "med-litigation",
        ("IT", "GR", "LY", "ES"),
    ),
    ("Balkan Asylum Legal Network", "BALN", "RS", "balkan-asylum", ("HR", "BA", "MK", "HU", "SI")),
    (
        "Instituto de Defensa Legal de Personas Migrantes",
        "IDLPM",
        "PE",
        "idl-migrantes",
        ("CL", "BO", "AR", "EC"),
    ),
    ("Mashriq Migrant Workers Legal Support", "MMWLS", "LB", "mashriq-workers", ("JO", "IQ", "EG")),
    ("Asia Pacific Refugee Law Collective", "APRLC", "TH", "ap-refugee-law", ("MY", "ID", "AU")),
    ("Nordic Centre for Refugee Law", "NCRL", "SE", "nordic-refugee-law", ("NO", "DK", "FI")),
    (
        "West African Human Rights Litigation Institute",
        "WAHRLI",
        "NG",
        "wahrli",
        ("GH", "SN", "CM"),
    ),
    ("Rede Brasileira de Advocacia Migrante", "RBAM", "BR", "rede-advocacia", ("AR", "PY", "UY")),
)

FIRST_NAMES = [
    "Amira",
    "Sofia",
    "Lucía",
    "Elena",
    "Maria",
    "Ana",
    "Fatima",
    "Aisha",
    "Chiara",
    "Giulia",
    "Marta",
    "Inés",
    "Claire",
    "Camille",
    "Léa",
    "Nadia",
    "Yasmin",
    "Zainab",
    "Grace",
    "Wanjiru",
    "Achieng",
    "Thandiwe",
    "Lerato",
    "Ngozi",
    "Adaeze",
    "Aminata",
    "Mariam",
    "Sara",
    "Ingrid",
    "Astrid",
    "Katarzyna",
    "Jelena",
    "Milica",
    "Hana",
    "Leila",
    "Mónica",
    "Valentina",
    "Camila",
    "Daniela",
    "Beatriz",
    "Ahmed",
    "Omar",
    "Youssef",
    "Karim",
    "Luca",
    "Marco",
    "Giorgos",
    "Nikos",
    "Pablo",
    "Javier",
    "Carlos",
    "Diego",
    "Mateo",
    "Thomas",
    "Pierre",
    "Jonas",
    "Lukas",
    "Felix",
    "David",
    "Samuel",
    "Joseph",
    "Kwame",
    "Kofi",
    "Ibrahima",
    "Moussa",
    "Tendai",
    "Sipho",
    "Otieno",
    "Erik",
    "Lars",
    "Mehmet",
    "Emre",
    "Rafael",
    "João",
    "Tiago",
    "Andrés",
    "Felipe",
    "Nicolás",
    "Arjun",
    "Rahul",
    "Minh",
    "Somchai",
]
LAST_NAMES = [
    "Haddad",
    "Rossi",
    "Bianchi",
    "García",
    "Martínez",
    "López",
    "Fernández",
    "Dubois",
    "Martin",
    "Bernard",
    "Müller",
    "Schmidt",
    "Fischer",
    "Smith",
    "Jones",
    "Okafor",
    "Mensah",
    "Diallo",
    "Ndiaye",
    "Traoré",
    "Kamau",
    "Mwangi",
    "Otieno",
    "Nkosi",
    "Dlamini",
    "Papadopoulou",
    "Georgiou",
    "Nikolaou",
    "Hernández",
    "Ramírez",
    "Torres",
    "Flores",
    "Gómez",
    "Silva",
    "Santos",
    "Costa",
    "Pereira",
    "Andersson",
    "Johansson",
    "Nielsen",
    "Kowalski",
    "Novak",
    "Petrović",
    "Jovanović",
    "Yılmaz",  # noqa: RUF001 - Turkish dotless i
    "Demir",
    "Khalil",
    "Mansour",
    "Nasser",
    "Rahman",
    "Hussain",
    "Chowdhury",
    "Nguyen",
    "Tran",
    "Wong",
    "Tanaka",
    "Cohen",
    "Levi",
    "Moreau",
    "Laurent",
]

LETTERS = "ABCDEFGHIJKLMNOPRSTVYZ"

# Short names for titles, where the reference name reads badly after "v.".
SHORT_COUNTRY_NAMES = {
    "CD": "the Democratic Republic of the Congo",
    "FM": "Micronesia",
    "PS": "Palestine",
    "RU": "Russia",
    "GB": "the United Kingdom",
    "US": "the United States",
    "NL": "the Netherlands",
    "PH": "the Philippines",
    "DO": "the Dominican Republic",
    "CF": "the Central African Republic",
    "AE": "the United Arab Emirates",
}

# Language used for a jurisdiction's documents and local organisation names.
LANGUAGE_OF = {
    **dict.fromkeys(
        [
            "ES",
            "MX",
            "CO",
            "AR",
            "PE",
            "CL",
            "EC",
            "VE",
            "BO",
            "PY",
            "UY",
            "GT",
            "HN",
            "SV",
            "NI",
            "CR",
            "PA",
            "DO",
            "CU",
        ],
        "es",
    ),
    **dict.fromkeys(
        [
            "FR",
            "BE",
            "LU",
            "SN",
            "ML",
            "NE",
            "BF",
            "CI",
            "CM",
            "TG",
            "BJ",
            "GN",
            "MR",
            "MA",
            "TN",
            "DZ",
            "HT",
            "CD",
            "CG",
            "GA",
        ],
        "fr",
    ),
    **dict.fromkeys(["PT", "BR", "AO", "MZ", "CV", "GW", "ST"], "pt"),
    **dict.fromkeys(["IT", "SM"], "it"),
    **dict.fromkeys(["DE", "AT", "LI"], "de"),
}

LOCAL_ASSOCIATIONS = {
    "es": ("Asociación {x}", "Fundación {x}", "Colectivo {x}", "Red {x}"),
    "fr": ("Association {x}", "Collectif {x}", "Ligue {x}", "Groupe d'information {x}"),
    "pt": ("Associação {x}", "Instituto {x}", "Coletivo {x}"),
    "it": ("Associazione {x}", "Comitato {x}", "Rete {x}"),
    "de": ("Verein {x}", "Initiative {x}", "Netzwerk {x}"),
    "en": ("{x} Refugee Council", "{x} Migrant Support Group", "Friends of {x}", "{x} Law Centre"),
}
ASSOCIATION_WORDS = [
    "Solidaridad",
    "Esperanza",
    "Horizonte",
    "Puentes",
    "Frontera",
    "Sur",
    "Acogida",
    "Vía",
    "Libre",
    "Nuevos",
    "Caminos",
    "Tierra",
    "de",
    "Todos",
    "Aurora",
    "Travesía",
    "Brújula",
    "Raíces",
    "Mar",
    "Abierto",
    "Sin",
    "Fronteras",
]

RESPONDENT_BODIES = {
    "en": ("Secretary of State for the Home Department", "Minister of Home Affairs"),
    "es": ("Ministerio del Interior", "Instituto Nacional de Migración"),
    "fr": ("Ministre de l'Intérieur", "Préfet de police"),
    "pt": ("União Federal", "Ministério da Justiça"),
    "it": ("Ministero dell'Interno", "Questura"),
    "de": ("Bundesrepublik Deutschland", "Bundesamt für Migration und Flüchtlinge"),
}

# Sentence templates per language. {right}, {country}, {forum}, {year} are filled in.
SENTENCES = {
    "en": (
        "The applicant, a national of {origin}, was detained on arrival for {days} days "
        "without an individual assessment of the necessity of detention.",
        "The authorities ordered removal to {origin} despite credible evidence of a real risk "
        "of ill-treatment, in breach of the principle of non-refoulement.",
        "The claim concerns {right} and the absence of an effective remedy with suspensive "
        "effect against the expulsion order.",
        "Unaccompanied children were held in police stations and border facilities in "
        "conditions incompatible with their best interests.",
        "The {forum} found that the reception conditions amounted to degrading treatment.",
        "The domestic courts dismissed the asylum application as manifestly unfounded after "
        "an accelerated procedure of {days} days.",
        "Counsel argued that the pushback operation constituted a collective expulsion carried "
        "out without any examination of individual circumstances.",
        "The family was separated at the border and family reunification was refused on "
        "grounds that were neither proportionate nor reasoned.",
        "Access to emergency health care was denied because of the claimants' migration status.",
        "The intervention submits comparative case law from {country} and the standards "
        "developed by the {forum} since {year}.",
        "Migrant workers were deprived of wages and identity documents, raising issues of "
        "forced labour and trafficking.",
        "The legislation excludes children of irregular migrants from public education, "
        "which the claimants challenge as discriminatory.",
        "Interim measures were requested to suspend the deportation pending examination.",
        "The judgment ordered the release of the applicants and the payment of just satisfaction.",
        "The State has not yet submitted an action plan on the general measures required.",
    ),
    "es": (
        "La persona solicitante, nacional de {origin}, fue detenida durante {days} días sin "
        "una evaluación individual de la necesidad de la detención.",
        "Las autoridades ordenaron la deportación pese al riesgo real de tortura, en violación "
        "del principio de no devolución.",
        "La demanda se refiere a {right} y a la falta de un recurso efectivo con efecto "
        "suspensivo contra la orden de expulsión.",
        "Niñas y niños no acompañados permanecieron en estaciones migratorias en condiciones "
        "contrarias a su interés superior.",
        "La {forum} declaró que las condiciones de acogida constituían un trato degradante.",
        "Se negó el acceso a servicios de salud por razón de la situación migratoria.",
        "La familia fue separada en la frontera y se denegó la reunificación familiar.",
        "Se solicitaron medidas cautelares para suspender la expulsión mientras se examina "
        "el caso.",
        "La sentencia ordenó la liberación inmediata y la reparación integral de las víctimas.",
    ),
    "fr": (
        "Le requérant, ressortissant de {origin}, a été placé en rétention pendant {days} "
        "jours sans examen individuel de la nécessité de la mesure.",
        "Les autorités ont ordonné l'éloignement malgré un risque réel de mauvais traitements, "
        "en violation du principe de non-refoulement.",
        "La requête porte sur {right} et sur l'absence de recours effectif suspensif contre "
        "la mesure d'éloignement.",
        "Des mineurs non accompagnés ont été maintenus en zone d'attente dans des conditions "
        "contraires à leur intérêt supérieur.",
        "La {forum} a jugé que les conditions d'accueil constituaient un traitement dégradant.",
        "L'accès aux soins d'urgence a été refusé en raison de la situation administrative.",
        "Des mesures provisoires ont été demandées afin de suspendre l'expulsion.",
        "L'arrêt ordonne la libération des requérants et le versement d'une satisfaction "
        "équitable.",
    ),
    "pt": (
        "O requerente, nacional de {origin}, foi detido durante {days} dias sem avaliação "
        "individual da necessidade da detenção.",
        "As autoridades ordenaram a deportação apesar do risco real de tortura, em violação "
        "do princípio de não devolução.",
        "A ação diz respeito a {right} e à ausência de recurso efetivo com efeito suspensivo.",
        "Crianças desacompanhadas foram mantidas em condições contrárias ao seu melhor interesse.",
        "O acesso à saúde foi negado em razão da situação migratória.",
        "A decisão determinou a libertação imediata e a reparação integral.",
    ),
    "it": (
        "Il ricorrente, cittadino di {origin}, è stato trattenuto per {days} giorni senza "
        "una valutazione individuale della necessità del trattenimento.",
        "Le autorità hanno disposto il respingimento nonostante il rischio concreto di "
        "maltrattamenti, in violazione del principio di non-refoulement.",
        "Il ricorso riguarda {right} e l'assenza di un rimedio effettivo con effetto sospensivo.",
        "Minori stranieri non accompagnati sono stati trattenuti nell'hotspot in condizioni "
        "contrarie al loro superiore interesse.",
        "La {forum} ha accertato che le condizioni di accoglienza costituivano un trattamento "
        "degradante.",
        "La sentenza ha ordinato il rilascio dei ricorrenti e un'equa soddisfazione.",
    ),
    "de": (
        "Der Beschwerdeführer, Staatsangehöriger von {origin}, wurde {days} Tage lang ohne "
        "Einzelfallprüfung in Abschiebungshaft genommen.",
        "Die Behörden ordneten die Abschiebung trotz eines realen Risikos unmenschlicher "
        "Behandlung an, unter Verstoß gegen das Refoulement-Verbot.",
        "Die Beschwerde betrifft {right} und das Fehlen eines wirksamen Rechtsbehelfs mit "
        "aufschiebender Wirkung.",
        "Unbegleitete Minderjährige wurden unter Bedingungen untergebracht, die ihrem Wohl "
        "widersprechen.",
        "Das Urteil ordnete die Freilassung und eine gerechte Entschädigung an.",
    ),
}

ORIGINS = [
    "Afghanistan",
    "Syria",
    "Eritrea",
    "Somalia",
    "Sudan",
    "Iraq",
    "Iran",
    "Nigeria",
    "Guinea",
    "Mali",
    "Senegal",
    "Gambia",
    "Venezuela",
    "Honduras",
    "Guatemala",
    "Haiti",
    "Cameroon",
    "Pakistan",
    "Bangladesh",
    "Ethiopia",
    "Yemen",
    "Libya",
    "Ukraine",
    "Colombia",
    "Cuba",
]

AIMS = (
    "Establish that detention of children for immigration purposes is never in their best "
    "interests.",
    "Obtain a ruling that pushbacks at the border amount to collective expulsion.",
    "Secure access to asylum procedures at the border and end summary returns.",
    "Require an effective remedy with automatic suspensive effect against removal.",
    "Extend access to health care and education regardless of migration status.",
    "Challenge indefinite immigration detention and obtain judicial review of its necessity.",
    "Protect family unity and obtain timely family reunification for recognised refugees.",
    "End the criminalisation of irregular entry of asylum seekers.",
    "Hold the State responsible for deaths at sea during interception operations.",
    "Obtain recognition of labour rights of migrant workers irrespective of status.",
)

ARGUMENTS = (
    "Real risk of ill-treatment on return; no individual assessment; no suspensive remedy.",
    "Detention neither necessary nor proportionate; alternatives not considered.",
    "Conditions of reception amount to degrading treatment given the applicants' vulnerability.",
    "Discrimination on grounds of nationality and migration status in access to services.",
    "Interference with family life not justified; best interests of the child not assessed.",
    "Lack of access to a lawyer and to information in a language the applicants understand.",
)

MEASURES = (
    "Release of the applicants and payment of just satisfaction.",
    "Review of the asylum applications with suspensive effect.",
    "Amendment of the law on immigration detention of children.",
    "Adoption of a protocol for age assessment and guardianship.",
    "Access to health care for all migrants regardless of status.",
    "Publication of the judgment and training of border officials.",
)

SUPERVISION_STAGES = (
    "standard supervision",
    "enhanced supervision",
    "follow-up report requested",
    "closed by final resolution",
    "compliance hearing scheduled",
)

DOCUMENT_TITLES = {
    "complaint": "Application",
    "brief": "Written submissions",
    "amicus": "Third-party intervention",
    "submission": "Observations in reply",
    "judgment": "Judgment",
    "decision": "Decision",
    "evidence": "Witness statement",
}
