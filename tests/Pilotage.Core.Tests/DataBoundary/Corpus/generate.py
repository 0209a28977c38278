#!/usr/bin/env python3
"""Writes boundary-corpus.tsv: the labelled corpus DataBoundaryCorpusTests runs.

Each line is `label<TAB>field<TAB>text`. A positive line's label is the detector that must find the value
written between « and » (exactly that span, in the original spelling); a negative line's label is `none`
and no detector may find anything in it. `field` names where in a request the text is placed (see
DataBoundaryCorpusTests.Fields). Deterministic: run it again after changing it, and commit both files.
    python3 tests/Pilotage.Core.Tests/DataBoundary/Corpus/generate.py
"""
import base64
import json
import os
import random

rng = random.Random(23)

FIELDS = ["content", "part", "name", "tool_arguments", "tool_result", "user", "metadata", "instructions",
          "responses_input", "anthropic_system", "anthropic_tool_use", "anthropic_tool_result", "embeddings",
          "embeddings_list", "prompt"]

SEPARATORS = [" ", "-", ".", "/", "_", "\u00a0", "\u2013", "\u2014", "\u2009", "\u202f", "\u3000", "  ", " - ", " / ", "\u2012"]
FORMAT_CHARS = ["\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u00ad", "\u200e", "\u202a"]
DIGIT_SCRIPTS = {"ascii": 0x30, "fullwidth": 0xFF10, "arabic_indic": 0x660, "extended_arabic_indic": 0x6F0,
                 "devanagari": 0x966, "bengali": 0x9E6, "thai": 0xE50, "math_bold": 0x1D7CE}


def digits_in(text, script):
    base = DIGIT_SCRIPTS[script]
    return "".join(chr(base + int(c)) if c.isdigit() else c for c in text)


def zero_width(text, count):
    chars = list(text)
    for _ in range(count):
        at = rng.randrange(1, len(chars))
        chars.insert(at, rng.choice(FORMAT_CHARS))
    return "".join(chars)


def luhn_digit(body):
    total = 0
    for i, c in enumerate(reversed(body)):
        d = int(c)
        if i % 2 == 0:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return str((10 - total % 10) % 10)


def card(prefix, length):
    body = prefix + "".join(rng.choice("0123456789") for _ in range(length - len(prefix) - 1))
    return body + luhn_digit(body)


def group(number, sizes, sep):
    out, at = [], 0
    for size in sizes:
        out.append(number[at:at + size])
        at += size
    return sep.join(out)


CARD_LAYOUTS = {13: [4, 4, 5], 15: [4, 6, 5], 16: [4, 4, 4, 4], 19: [4, 4, 4, 4, 3]}
CARD_PREFIXES = [("4", 16), ("4", 13), ("51", 16), ("55", 16), ("2221", 16), ("34", 15), ("37", 15), ("6011", 16),
                 ("65", 16), ("35", 16), ("62", 19), ("36", 16)]


def iban(country, bban):
    def num(s):
        return "".join(str(int(c, 36)) for c in s)
    check = 98 - int(num(bban + country + "00")) % 97
    return f"{country}{check:02d}{bban}"


def rand(chars, n):
    return "".join(rng.choice(chars) for _ in range(n))


DIG = "0123456789"
UP = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
ALNUM = UP + UP.lower() + DIG


def iban_values():
    return [
        iban("DE", rand(DIG, 18)), iban("GB", "WEST" + rand(DIG, 14)), iban("FR", rand(DIG, 23)),
        iban("NL", "ABNA" + rand(DIG, 10)), iban("ES", rand(DIG, 20)), iban("IT", "X" + rand(DIG, 10) + rand(DIG, 12)),
        iban("BE", rand(DIG, 12)), iban("AT", rand(DIG, 16)), iban("CH", rand(DIG, 17)), iban("PL", rand(DIG, 24)),
    ]


def vat(country):
    def w(ds, weights):
        return sum(int(d) * x for d, x in zip(ds, weights))
    while True:
        if country == "DE":
            ds = str(rng.randint(1, 9)) + rand(DIG, 7)
            product = 10
            for c in ds:
                s = (int(c) + product) % 10 or 10
                product = 2 * s % 11
            check = 11 - product
            return "DE" + ds + str(0 if check == 10 else check)
        if country == "FR":
            siren = rand(DIG, 9)
            return "FR" + f"{(12 + 3 * (int(siren) % 97)) % 97:02d}" + siren
        if country == "IT":
            body = rand(DIG, 10)
            return "IT" + body + luhn_digit(body)
        if country == "BE":
            first = "0" + rand(DIG, 7)
            return "BE" + first + f"{97 - int(first) % 97:02d}"
        if country == "ATU":
            ds = rand(DIG, 7)
            total = sum(int(d) if i % 2 == 0 else sum(divmod(int(d) * 2, 10)) for i, d in enumerate(ds))
            return "ATU" + ds + str((10 - (total + 4) % 10) % 10)
        if country == "PL":
            ds = rand(DIG, 9)
            r = w(ds, [6, 5, 7, 2, 3, 4, 5, 6, 7]) % 11
            if r == 10:
                continue
            return "PL" + ds + str(r)
        if country == "DK":
            ds = str(rng.randint(1, 9)) + rand(DIG, 6)
            for last in DIG:
                if w(ds + last, [2, 7, 6, 5, 4, 3, 2, 1]) % 11 == 0:
                    return "DK" + ds + last
            continue
        if country == "FI":
            ds = rand(DIG, 7)
            r = w(ds, [7, 9, 10, 5, 8, 4, 2]) % 11
            if r == 1:
                continue
            return "FI" + ds + str(0 if r == 0 else 11 - r)
        if country == "PT":
            ds = str(rng.randint(1, 9)) + rand(DIG, 7)
            c = 11 - w(ds, [9, 8, 7, 6, 5, 4, 3, 2]) % 11
            return "PT" + ds + str(0 if c >= 10 else c)
        if country == "SE":
            body = rand(DIG, 9)
            return "SE" + body + luhn_digit(body) + "01"
        if country == "LU":
            ds = rand(DIG, 6)
            return "LU" + ds + f"{int(ds) % 89:02d}"
        if country == "NL":
            ds = rand(DIG, 8)
            r = w(ds, [9, 8, 7, 6, 5, 4, 3, 2]) % 11
            if r == 10:
                continue
            return "NL" + ds + str(r) + "B" + rand(DIG, 2)
        if country == "ES":
            n = rng.randint(10_000_000, 99_999_999)
            return "ES" + str(n) + "TRWAGMYFPDXBNJZSQVHLCKE"[n % 23]
        raise ValueError(country)


def vat_nl_mod11(value):
    r = sum(int(d) * x for d, x in zip(value[2:10], [9, 8, 7, 6, 5, 4, 3, 2])) % 11
    return r < 10 and r == int(value[10])


def holds_card(text):
    """True when a run of digit groups in text holds a Luhn-valid, card-length number (13-19 digits, issuer 2-6)."""
    groups = [g for g in text.replace("-", " ").split(" ") if g.isdigit()]
    for i in range(len(groups)):
        digits = ""
        for g in groups[i:]:
            digits += g
            if 13 <= len(digits) <= 19 and digits[0] in "23456" and luhn_digit(digits[:-1]) == digits[-1]:
                return True
    return False


VAT_COUNTRIES = ["DE", "FR", "IT", "BE", "ATU", "PL", "DK", "FI", "PT", "SE", "LU", "NL", "ES"]


def b64url(data):
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def secrets():
    out = []
    for prefix in ["AKIA", "ASIA", "ABIA", "ACCA", "A3TX"]:
        out.append(prefix + rand(UP + "234567", 16))
    for _ in range(4):
        out.append("AIza" + rand(ALNUM + "_-", 35))
    for prefix in ["ghp_", "gho_", "ghu_", "ghs_", "ghr_"]:
        out.append(prefix + rand(ALNUM, 36))
    out.append("github_pat_" + rand(ALNUM, 22) + "_" + rand(ALNUM, 59))
    for prefix in ["glpat-", "gldt-", "glrt-", "glptt-"]:
        out.append(prefix + rand(ALNUM, 20))
    out.append(rand(ALNUM, 3) + "8Q~" + rand(ALNUM + "_~.-", 34))
    out.append(rand(ALNUM, 3) + "2Q~" + rand(ALNUM + "_~.", 31))
    for kind in ["RSA ", "EC ", "", "OPENSSH ", "ENCRYPTED "]:
        body = "\n".join(rand(ALNUM + "+/", 64) for _ in range(3))
        out.append(f"-----BEGIN {kind}PRIVATE KEY-----\n{body}\n-----END {kind}PRIVATE KEY-----")
    for alg in ["HS256", "RS256", "ES384"]:
        header = b64url(json.dumps({"alg": alg, "typ": "JWT"}).encode())
        payload = b64url(json.dumps({"sub": rand(DIG, 8), "name": "Dana", "iat": 1733300000}).encode())
        out.append(f"{header}.{payload}.{rand(ALNUM + '_-', 43)}")
    return out


CONTEXTS = ["«X»", "Card: «X».", "please charge «X» today", "my number is «X», thanks", "Kartennummer «X» bitte",
            "(«X»)", "ref: «X»\nnext line", "«X» is the one", "use «X» for the refund"]


def positives():
    lines = []

    def add(label, value, context=None):
        lines.append((label, (context or rng.choice(CONTEXTS)).replace("X", value)))

    # Cards: every separator, every format character, every digit script, and mixes.
    for prefix, length in CARD_PREFIXES:
        number = card(prefix, length)
        add("credit_card", number)
        for sep in SEPARATORS:
            add("credit_card", group(number, CARD_LAYOUTS[length], sep))
        for script in DIGIT_SCRIPTS:
            add("credit_card", digits_in(group(number, CARD_LAYOUTS[length], rng.choice(SEPARATORS)), script))
        add("credit_card", zero_width(number, 3))
        add("credit_card", zero_width(group(number, CARD_LAYOUTS[length], " "), 2))
    for _ in range(12):
        prefix, length = rng.choice(CARD_PREFIXES)
        sizes = CARD_LAYOUTS[length]
        parts = group(card(prefix, length), sizes, "|").split("|")
        mixed = parts[0] + "".join(rng.choice(SEPARATORS) + p for p in parts[1:])
        add("credit_card", zero_width(digits_in(mixed, rng.choice(list(DIGIT_SCRIPTS))), 2))

    # IBANs: compact, grouped by four with any separator, lower case, format characters, other digit scripts.
    for value in iban_values():
        grouped = " ".join(value[i:i + 4] for i in range(0, len(value), 4))
        add("iban", value)
        add("iban", grouped)
        add("iban", grouped.replace(" ", rng.choice(["-", ".", "\u00a0", "\u2009", "_", "\u2013"])))
        add("iban", zero_width(value, 2))
        add("iban", digits_in(grouped, rng.choice(["fullwidth", "arabic_indic", "devanagari"])))
        add("iban", value.lower())

    # E-mail addresses, including fullwidth and zero-width spellings.
    for local, domain in [("dana", "example.org"), ("lee.chen", "mail.example.co.uk"), ("j.o'brien", "example.ie"),
                          ("support+ticket", "example.com"), ("a_b-c", "sub.example.de"), ("jürgen", "beispiel.de"),
                          ("x1", "example.io"), ("first.last", "example.museum")]:
        value = f"{local}@{domain}"
        add("email", value, "write to «X» please")
        add("email", zero_width(value, 2), "mail «X»")
        add("email", value.replace("@", "\uff20"), "contact «X».")
        add("email", value.replace(".", "\uff0e"), "«X» is mine")
        add("email", "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in value), "address «X»")
        add("email", value.upper(), "«X»")

    # Phone numbers in international and national forms, with the same variants.
    phones = ["+44 20 7946 0958", "020 7946 0958", "(555) 123-4567", "+1 555 123 4567", "+33 1 23 45 67 89",
              "030/1234567", "+49 30 1234567", "06 12 34 56 78", "+31 20 123 4567", "0171 2345678"]
    for value in phones:
        add("phone", value, "call «X» now")
        add("phone", value.replace(" ", "\u00a0"), "tel «X»")
        add("phone", value.replace(" ", "\u2013").replace("-", "\u2013"), "phone: «X»")
        add("phone", value.replace(" ", "."), "«X» (mobile)")
        add("phone", zero_width(value, 2), "ring «X»")
        add("phone", digits_in(value, rng.choice(["fullwidth", "arabic_indic", "extended_arabic_indic", "thai"])), "call «X»")

    # A number in front of a phone: every group any phone-shaped reading of the run holds is redacted, so that no digit
    # of the phone is left visible ("2025 020 7946" and "020 7946 0958" are both readings). A prefix joined by another
    # separator than the phone's own stays outside. Fifteen lines, no random draw: the lines after keep their fields.
    for value, context in [("2025 020 7946 0958", "call «X» today"), ("12 020 7946 0958", "call «X» today"),
                           ("2025 2026 020 7946 0958", "on «X»"), ("2025\u00a0020\u00a07946\u00a00958", "tel «X»"),
                           ("2025\u2009020 7946 0958", "ring «X» now"), ("2025\u2013020 7946 0958", "phone: «X»"),
                           (digits_in("2025 020 7946 0958", "fullwidth"), "call «X»"), ("1/2 020 7946 0958", "room «X»"),
                           ("2025 555 123 4567", "call «X» now"), ("2025 030 1234567", "Tel. «X»"),
                           ("2025 06 12 34 56 78", "«X» (mobile)"), ("020-7946-0958", "2025 «X» (mobile)"),
                           ("020.7946.0958", "2025 «X»"), ("(555) 123-4567", "2025 «X»"), ("+44 20 7946 0958", "2025 «X» today")]:
        add("phone", value, context)

    # US Social Security numbers.
    for _ in range(8):
        area = rng.choice([n for n in range(1, 900) if n != 666])
        value = f"{area:03d}-{rng.randint(1, 99):02d}-{rng.randint(1, 9999):04d}"
        add("us_ssn", value, "SSN «X»")
        add("us_ssn", value.replace("-", " "), "social security number «X»")
        add("us_ssn", value.replace("-", "\u2013"), "ssn: «X»")
        add("us_ssn", digits_in(value, "fullwidth"), "«X»")
        add("us_ssn", zero_width(value, 2), "id «X».")

    # UK National Insurance numbers.
    for prefix in ["AB", "CE", "JG", "PR", "TW", "WL"]:
        value = f"{prefix}{rng.randint(0, 999999):06d}{rng.choice('ABCD')}"
        spaced = f"{value[:2]} {value[2:4]} {value[4:6]} {value[6:8]} {value[8]}"
        add("uk_nino", value, "NI number «X»")
        add("uk_nino", spaced, "NINO: «X»")
        add("uk_nino", spaced.replace(" ", "\u00a0"), "«X»")
        add("uk_nino", digits_in(value, "fullwidth"), "ni «X».")
        add("uk_nino", zero_width(value, 2), "«X» is mine")

    # EU VAT numbers, each country with its check digit.
    for country in VAT_COUNTRIES:
        for _ in range(2):
            value = vat(country)
            head = 3 if country == "ATU" else 2
            add("eu_vat", value, "VAT «X»")
            add("eu_vat", value[:head] + " " + value[head:], "USt-IdNr. «X»")
        add("eu_vat", zero_width(vat(country), 2), "TVA «X»")

    # Secrets.
    for value in secrets():
        add("secret", value, "key=«X»")
        add("secret", value, "here it is: «X» (do not share)")
    return lines


def negatives():
    values = []
    # Card-shaped numbers that fail Luhn, with the same spellings as the positives.
    for prefix, length in CARD_PREFIXES:
        number = card(prefix, length)
        wrong = number[:-1] + str((int(number[-1]) + rng.randint(1, 9)) % 10)
        values.append(wrong)
        for sep in SEPARATORS[:8]:
            values.append(group(wrong, CARD_LAYOUTS[length], sep))
        values.append(digits_in(group(wrong, CARD_LAYOUTS[length], "\u00a0"), "fullwidth"))
        values.append(digits_in(wrong, "arabic_indic"))
        values.append(zero_width(wrong, 2))
    # Luhn-valid digits that are not cards: too long, too short, timestamps, issuer digits no network uses.
    for _ in range(6):
        values.append(card("1", 13))  # a millisecond timestamp
        values.append(card("9", 16))
        values.append(card("4", 12))
        values.append(card("4", 16) + "12345")
    # IBANs that fail mod 97, or have the wrong length for their country.
    for value in iban_values():
        broken = value[:-1] + str((int(value[-1]) + 1) % 10)
        grouped = " ".join(broken[i:i + 4] for i in range(0, len(broken), 4))
        if holds_card(grouped):
            continue  # a broken IBAN whose groups happen to spell a valid card number is a card, not a negative
        values.append(broken)
        values.append(" ".join(broken[i:i + 4] for i in range(0, len(broken), 4)))
        values.append(value[:-1])
    # Dates and times.
    values += ["2026-11-25", "25/11/2026", "25.11.2026", "11/25/2026 14:30", "2026-11-25T10:00:00Z", "Q3 2026",
               "from 2024-01-01 to 2024-12-31", "2026\u201311\u201325", "25\u00a0November\u00a02026",
               "\uff12\uff10\uff12\uff16-\uff11\uff11-\uff12\uff15", "1999-12-31 23:59:59", "31.12.1999", "12/31/99",
               "2026/11/25", "on 2025-06-30 and 2025-07-01"]
    # Order numbers, references and other identifiers that look like numbers.
    values += ["Order #48213-7710", "INV-2026-0001", "ORD_2026_004417", "PO A/2026/0042", "SKU 55-1203", "order 558213",
               "ticket #9918273645", "case ID-2026-118734", "employee no. E-4471-220", "batch_2026_11_25_0042",
               "#0207-946-0958", "ref #4111-1111", "ISBN 978-3-16-148410-0", "ISBN 0-306-40615-2", "DOI 10.1000/182",
               "version 1.2.3", "v10.0.401", "build 2026.11.25.1", "IP 192.168.10.20", "10.0.0.1", "port 8080",
               "550e8400-e29b-41d4-a716-446655440000", "a94a8fe5ccb19ba61c4c0873d391e987982fbbd3",
               "sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08", "room 4.12", "pages 120-135",
               "tracking 1Z999AA10123456784", "invoice A-2026/118", "release 2026.11", "\uff03\uff14\uff18\uff12\uff11\uff13"]
    # Amounts and measures.
    values += ["1 000 000 EUR", "12.345.678", "$4,111.11", "3.14159", "EUR 1.234,56", "-273.15 C", "2.5 kg",
               "1\u00a0000\u00a0000", "0.000123", "12 345", "50%", "4111 tokens", "1,234,567 rows"]
    # Near misses of the other detectors.
    values += ["AKIA" + rand(UP, 15), "ghp_" + rand(ALNUM, 35), "glpat-" + rand(ALNUM, 12), "AIza" + rand(ALNUM, 20),
               "eyJhbGciOiJIUzI1NiJ9", "-----BEGIN PUBLIC KEY-----", "-----BEGIN CERTIFICATE-----",
               "ghp_ is the prefix of GitHub tokens", "000-12-3456", "666-12-3456", "912-34-5678", "123-00-4567",
               "123-45-0000", "BG 12 34 56 A", "DA123456C", "AB123456E", "GB 12 34 56 A", "user at example dot com",
               "john@localhost", "@handle", "a@b", "email me", "DE 123", "FR is France", "IT support", "NL team",
               "password", "token", "the API key is in the vault"]
    for country in VAT_COUNTRIES:
        value = vat(country)
        if country == "NL":
            # The check digit is the ninth digit (the two after "B" are a branch number); broken for both NL rules.
            while True:
                value = value[:10] + str((int(value[10]) + 1) % 10) + value[11:]
                if int("".join(str(int(c, 36)) for c in value)) % 97 != 1 and not vat_nl_mod11(value):
                    break
            values.append(value)
            continue
        values.append(value[:-1] + str((int(value[-1]) + 1) % 10) if value[-1].isdigit() else value[:-1] + ("A" if value[-1] != "A" else "B"))
    # Plain text, in several languages and scripts.
    values += ["Hello, how can I help?", "Bonjour, merci beaucoup.", "Grüße aus München", "مرحبا بك ٣ مرات",
               "数字は１２３です", "The meeting is at 10:30 in room 12.", "Chapter 3, verse 16", "We sold 4111 units in Q4.",
               "Temperature 21.5 degrees", "Call me tomorrow", "Population 8 000 000", "top 10 list", "x = 42",
               "The code path 4/11 failed", "see section 1.1.1", "score 9.5/10", "¹²³", "ⅫⅣ", "① ② ③"]
    contexts = ["«X»", "see «X» above", "note: «X».", "«X» (checked)", "about «X», more later"]
    out = []
    for value in values:
        # Each negative twice, in two contexts, so that every field sees each kind.
        for context in rng.sample(contexts, 2):
            out.append(("none", context.replace("«X»", value)))
    return out


def main():
    rows = []
    for i, (label, text) in enumerate(positives() + negatives()):
        field = FIELDS[i % len(FIELDS)]
        text = text.replace("\t", " ")
        rows.append(f"{label}\t{field}\t{json.dumps(text, ensure_ascii=False)}")
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "boundary-corpus.tsv")
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        f.write("# label<TAB>field<TAB>text as a JSON string; generated by generate.py, do not edit by hand\n")
        f.write("\n".join(rows) + "\n")
    pos = sum(1 for r in rows if not r.startswith("none"))
    print(f"{pos} positive, {len(rows) - pos} negative")


if __name__ == "__main__":
    main()
