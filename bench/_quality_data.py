"""The retrieval-quality sets: a corpus of prompts and two sets of queries with their answers.

``PARAPHRASES``: each query says what one stored prompt says, with no content word in common
(stop words aside). ``EXACT_TERMS``: each query names a rare exact term (an error code, a ticket
number, a function name) that one stored prompt holds, among near-twins holding similar terms.
``DISTRACTORS`` are prompts no query aims at. Written for this benchmark; no data set is loaded.
"""

from __future__ import annotations

__all__ = ["DISTRACTORS", "EXACT_TERMS", "PARAPHRASES", "corpus"]

# (prompt id, stored prompt, query that paraphrases it)
PARAPHRASES: list[tuple[str, str, str]] = [
    (
        "para-01",
        "How can I get my money back for a broken kettle?",
        "Refund wanted: faulty appliance",
    ),
    ("para-02", "What is the capital city of Australia?", "Seat of government Down Under"),
    ("para-03", "Recommend a novel about the sea", "Suggest fiction set on ocean voyages"),
    ("para-04", "My dog keeps barking at night", "Puppy howls loudly after dark"),
    (
        "para-05",
        "How do I lower my blood pressure naturally?",
        "Reduce hypertension without medication",
    ),
    ("para-06", "Best way to learn Spanish quickly", "Fastest method for picking up Castilian"),
    ("para-07", "Why is the sky blue?", "Reason heavens appear azure"),
    ("para-08", "How to fix a leaking faucet", "Repair dripping tap"),
    ("para-09", "Tips for sleeping better", "Advice on getting restful slumber"),
    ("para-10", "Cheap flights to Tokyo", "Inexpensive airfare Japan capital"),
    ("para-11", "How do vaccines work?", "Mechanism behind immunization shots"),
    ("para-12", "Good exercises for back pain", "Workouts easing spine ache"),
    ("para-13", "How to bake sourdough bread", "Making naturally leavened loaf"),
    ("para-14", "What causes earthquakes?", "Origin of seismic tremors"),
    ("para-15", "How can I save for retirement?", "Putting aside funds for old age pension"),
    ("para-16", "My laptop battery drains fast", "Notebook computer power depletes quickly"),
    ("para-17", "How to train for a marathon", "Preparing to run 42 kilometres race"),
    ("para-18", "Symptoms of the flu", "Signs of influenza infection"),
    ("para-19", "How do I write a cover letter?", "Drafting job application introduction"),
    ("para-20", "Where can I adopt a cat?", "Rescue shelters offering kittens"),
    (
        "para-21",
        "How to grow tomatoes on a balcony",
        "Cultivating vegetables in pots outdoors upstairs",
    ),
    ("para-22", "What is inflation?", "Meaning of rising consumer prices"),
    ("para-23", "How to stop procrastinating", "Overcoming habit delaying tasks"),
    ("para-24", "Best hiking trails in Scotland", "Top walking routes Highlands"),
    ("para-25", "How to remove a red wine stain", "Cleaning merlot spill from fabric"),
    ("para-26", "Why do cats purr?", "Reason felines make rumbling sound"),
    ("para-27", "How to negotiate a higher salary", "Asking employer raise pay"),
    ("para-28", "How does photosynthesis work?", "Plants converting sunlight into energy"),
    ("para-29", "What should I pack for a beach holiday?", "Items bring seaside vacation luggage"),
    ("para-30", "How to speed up my slow phone", "Making sluggish smartphone faster"),
    ("para-31", "Healthy breakfast ideas", "Nutritious morning meal suggestions"),
    ("para-32", "How to meditate for beginners", "Mindfulness practice newcomers"),
    ("para-33", "When did World War II end?", "Year second global conflict concluded"),
    ("para-34", "How to change a flat tyre", "Replacing punctured car wheel"),
    ("para-35", "How much water should I drink daily?", "Recommended hydration amount each day"),
    ("para-36", "Ways to reduce stress at work", "Coping office anxiety pressure"),
    ("para-37", "How to make a budget spreadsheet", "Creating household finance table in Excel"),
    ("para-38", "What do pandas eat?", "Diet bamboo bears"),
    (
        "para-39",
        "How to get rid of ants in the kitchen",
        "Eliminating insect infestation near pantry",
    ),
    ("para-40", "Learning to play guitar at forty", "Picking up strings instrument middle age"),
]

# (prompt id, stored prompt, query naming its exact term)
EXACT_TERMS: list[tuple[str, str, str]] = [
    (
        "exact-01",
        "Build fails with error E4031 when linking the payment module",
        "what does E4031 mean",
    ),
    (
        "exact-02",
        "Build fails with error E4032 when linking the reporting module",
        "error E4032 again",
    ),
    ("exact-03", "Customer reports checkout crash, ticket JIRA-8812", "status of JIRA-8812"),
    ("exact-04", "Customer reports checkout crash, ticket JIRA-8821", "any update on JIRA-8821"),
    ("exact-05", "Refactor parse_config_v2 to accept YAML anchors", "who touched parse_config_v2"),
    ("exact-06", "Refactor parse_config_v3 to accept TOML tables", "parse_config_v3 review"),
    ("exact-07", "Kubernetes pod stuck in CrashLoopBackOff after deploy", "CrashLoopBackOff"),
    ("exact-08", "Postgres says SQLSTATE 40P01 deadlock detected on orders", "SQLSTATE 40P01"),
    ("exact-09", "Postgres says SQLSTATE 23505 unique violation on users", "seeing 23505 in logs"),
    ("exact-10", "The nightly job OOMKilled on node ip-10-2-3-4", "why was it OOMKilled"),
    ("exact-11", "Invoice INV-2024-0193 was charged twice", "INV-2024-0193 duplicate"),
    ("exact-12", "Invoice INV-2024-0139 shows the wrong VAT rate", "question about INV-2024-0139"),
    ("exact-13", "Upgrade libssl to 3.0.13 for CVE-2024-0727", "CVE-2024-0727 fix"),
    ("exact-14", "Upgrade zlib for CVE-2022-37434", "are we exposed to CVE-2022-37434"),
    (
        "exact-15",
        "Function computeShippingQuote returns NaN for Alaska",
        "computeShippingQuote bug",
    ),
    (
        "exact-16",
        "Function computeShippingTotal rounds cents wrongly",
        "computeShippingTotal rounding",
    ),
    ("exact-17", "HTTP 429 from the geocoding API during the import", "getting 429 responses"),
    ("exact-18", "Order #77231 never arrived in Leeds", "where is order 77231"),
    ("exact-19", "Order #77213 arrived damaged in York", "order 77213 broken"),
    ("exact-20", "Error ECONNRESET when the worker talks to Redis", "ECONNRESET again today"),
    (
        "exact-21",
        "Flag --max-old-space-size ignored by the Node build",
        "max-old-space-size not working",
    ),
    ("exact-22", "Sensor SN-55A7-QX reports negative humidity", "SN-55A7-QX readings"),
    ("exact-23", "Sensor SN-55A7-QZ lost its Wi-Fi connection", "SN-55A7-QZ offline"),
    ("exact-24", "Migration 0042_add_tenant_index takes an hour", "0042_add_tenant_index slow"),
    ("exact-25", "Pipeline stage lint_and_typecheck timed out", "lint_and_typecheck timeout"),
    (
        "exact-26",
        "ZeroDivisionError in quarterly_margin for empty regions",
        "ZeroDivisionError quarterly_margin",
    ),
    ("exact-27", "Badge scanner B-17 at the north gate rejects valid cards", "B-17 gate scanner"),
    ("exact-28", "Drug interaction between warfarin and fluconazole", "warfarin fluconazole"),
    ("exact-29", "Part number 6204-2RS bearing out of stock", "6204-2RS availability"),
    ("exact-30", "Flight BA0117 delayed at Heathrow", "BA0117 status"),
]

# Prompts no query aims at: same topics and vocabulary, to make both rankings work for it.
DISTRACTORS: list[str] = [
    "Build fails when linking the shipping module",
    "Customer reports checkout is slow on mobile",
    "Refactor the config loader to read environment variables",
    "Kubernetes pod cannot pull its image",
    "Postgres connection pool exhausted under load",
    "The nightly job finished late again",
    "Invoice shows the wrong currency",
    "Upgrade OpenSSL on the build machines",
    "Function returns the wrong total for Hawaii",
    "HTTP 500 from the payments API",
    "Order never arrived in Manchester",
    "Error when the worker talks to the database",
    "Sensor reports wrong temperature",
    "Migration takes too long on the staging database",
    "Pipeline stage timed out on the runner",
    "Badge scanner at the south gate is offline",
    "Part out of stock at the warehouse",
    "Flight delayed at Gatwick",
    "My cat ignores her new toys",
    "How do I clean a cast iron pan?",
    "Where can I buy cheap kitchen appliances?",
    "What is the tallest mountain in Europe?",
    "Recommend a podcast about history",
    "How do I stop my neighbour's dog from digging?",
    "Best way to store fresh herbs",
    "How to paint a bedroom wall",
    "What time does the museum open?",
    "How to fold a fitted sheet",
    "Ideas for a rainy weekend with kids",
    "How do I renew my passport?",
    "How to repair a bicycle chain",
    "What is the boiling point of water at altitude?",
    "Good films for a family evening",
    "How to start a vegetable compost heap",
    "How can I improve my handwriting?",
    "What is the difference between weather and climate?",
    "How to set up a home aquarium",
    "What are good questions for a job interview?",
    "How to teach a child to ride a bike",
    "Tips for writing a wedding speech",
]


def corpus() -> list[tuple[str, str]]:
    """Every stored prompt, ``(prompt id, text)``: both sets' targets and the distractors."""
    targets = [(pid, text) for pid, text, _ in PARAPHRASES + EXACT_TERMS]
    return targets + [(f"other-{i:02d}", text) for i, text in enumerate(DISTRACTORS, 1)]
