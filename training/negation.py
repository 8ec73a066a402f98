"""A claim's negation written by rules: what counterfactual training pairs and the polarity probe are made of.

A text that asserts a claim disputes its negation, and a text that disputes it asserts the negation; a text that only
reports the claim only reports the negation too. Pairs that differ only in the claim's polarity are what teaches a
model to read the relation between claim and text rather than the cue words of the text ("not", "denied"), which the
news corpora reward: there a claim almost never stands beside its own negation.

The rules read the claim left to right and act on its first predicate:
- a negation there is removed ("is not" -> "is", "didn't" -> "did", "never" and "no longer" dropped);
- an auxiliary, modal or copula takes a "not" ("will cut" -> "will not cut", "is named" -> "is not named");
  "there is a" takes "no" ("there was no plot");
- a headline's passive participle takes "not" ("Foley beheaded by ISIS" -> "Foley not beheaded by ISIS");
- a main verb in the past or the third person takes "does not"/"did not" with its base form, or "never" before it
  (chosen by the claim's own hash, so a model meets both forms and learns neither as a cue);
- a few adjectives are swapped for their antonyms (true/false, real/fake, alive/dead, ...) wherever they stand first;
- a claim with none of these (no verb the rules can find) is left out, and counted by whoever asks.
A small hand-checked set (HAND_WRITTEN_FILE) overrides the rules for claims they get wrong.
"""

from __future__ import annotations

import re
import zlib
from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from pathlib import Path

from lemminflect import getAllInflections, getAllLemmas, getInflection


class NegationRule(StrEnum):
    HAND_WRITTEN = "hand-written"
    NEGATION_REMOVED = "negation removed"
    AUXILIARY_NOT = "auxiliary + not"
    PARTICIPLE_NOT = "not + participle"
    THERE_IS_NO = "there is no"
    DO_NOT = "does/did not + verb"
    NEVER = "never + verb"
    ANTONYM = "antonym"


@dataclass(frozen=True)
class Negation:
    claim: str
    """The claim negated."""
    rule: NegationRule


AUXILIARIES = frozenset(
    "is are was were am be been will would shall should can could may might must does do did has have had".split()
)
HAVE = frozenset({"has", "have", "had"})
COPULAS = frozenset({"is", "are", "was", "were", "am", "be"})
CONTRACTIONS = {
    "isn't": "is", "aren't": "are", "wasn't": "was", "weren't": "were", "won't": "will", "wouldn't": "would",
    "can't": "can", "cannot": "can", "couldn't": "could", "shouldn't": "should", "mustn't": "must",
    "doesn't": "does", "don't": "do", "didn't": "did", "hasn't": "has", "haven't": "have", "hadn't": "had",
}  # fmt: skip
NEGATORS = frozenset({"not", "never"})
ANTONYMS = {
    "true": "false", "real": "fake", "alive": "dead", "guilty": "innocent", "legal": "illegal", "safe": "unsafe",
    "effective": "ineffective", "possible": "impossible", "accurate": "inaccurate",
}  # fmt: skip
ANTONYMS |= {b: a for a, b in ANTONYMS.items() if b not in ANTONYMS}
SUBORDINATORS = frozenset(
    "after when while because if although though before since as unless once until whether".split()
)
"""A claim that opens with a subordinate clause ("After police published ..., the target replied") has its first
predicate in that clause: negating it would not negate the claim, so such claims are left to the hand-written set."""
DETERMINERS = frozenset({"a", "an", "some", "any"})
RELATIVES = frozenset({"who", "that", "which"})
PARTICIPLE_FOLLOWERS = frozenset("by with in on at from during after near inside for and".split())

WORD = re.compile(r"[A-Za-z][A-Za-z'’-]*")


@cache
def verb_forms(word: str) -> tuple[str, str] | None:
    """(base form, tag) of a past-tense (VBD) or third-person present (VBZ) verb form, None for any other word."""
    lemmas = getAllLemmas(word.lower()).get("VERB", ())
    for lemma in lemmas:
        inflections = getAllInflections(lemma, upos="VERB")
        for tag in ("VBD", "VBZ"):
            if word.lower() in inflections.get(tag, ()):
                return lemma, tag
    return None


def is_past_participle(word: str) -> bool:
    return any(word.lower() in getInflection(lemma, tag="VBN") for lemma in getAllLemmas(word.lower()).get("VERB", ()))


def could_be_noun(word: str) -> bool:
    return "NOUN" in getAllLemmas(word.lower())


def in_case_of(word: str, like: str) -> str:
    """`word` in the case of `like`: Title Case headlines keep it."""
    if like[:1].isupper() and like[1:2].islower():
        return word[:1].upper() + word[1:]
    return word.upper() if like.isupper() and len(like) > 1 else word


def negate(claim: str) -> Negation | None:
    """The claim's negation by the first rule that fits it (module docstring), or None where none does."""
    key = " ".join(claim.split()).lower()
    if key in hand_written():
        return Negation(hand_written()[key], NegationRule.HAND_WRITTEN)
    words = list(WORD.finditer(claim))
    if not words or words[0].group().lower() in SUBORDINATORS | AUXILIARIES:  # a subordinate clause first; a question
        return None
    title_case = sum(w.group()[0].isupper() for w in words) > 0.6 * len(words)
    for k, match in enumerate(words):
        word, lower = match.group(), match.group().lower().replace("’", "'")
        if lower in CONTRACTIONS:
            return _replace(claim, match, in_case_of(CONTRACTIONS[lower], word), NegationRule.NEGATION_REMOVED)
        if lower in NEGATORS or (lower == "no" and _next(words, k) == "longer"):
            end = words[k + 1].end() if lower == "no" else match.end()
            return _cut(claim, match.start(), end, NegationRule.NEGATION_REMOVED)
        if lower in ANTONYMS:
            return _replace(claim, match, in_case_of(ANTONYMS[lower], word), NegationRule.ANTONYM)
        if lower in AUXILIARIES and k > 0:
            return _auxiliary(claim, words, k)
        if lower == "there's" and _next(words, k) in DETERMINERS:
            return _replace(claim, words[k + 1], "no", NegationRule.THERE_IS_NO)
        if lower == "there's" and _next(words, k) == "no":
            article = "an" if _next(words, k + 1)[:1] in tuple("aeiou") else "a"
            return _replace(claim, words[k + 1], article, NegationRule.NEGATION_REMOVED)
        if lower == "to" and k > 0 and _headline_future(words, k):  # "Apple to unveil" -> "Apple not to unveil"
            return _insert(claim, match.start(), in_case_of("not", word) + " ", NegationRule.AUXILIARY_NOT)
        forms = verb_forms(word) if k > 0 else None
        if forms is None or _after_determiner(words, k) or _reduced_relative(words, k):
            continue
        if word[0].isupper() and not title_case:  # a name in a sentence ("Steve Jobs"), not a verb
            continue
        if words[k - 1].group().lower() in RELATIVES:  # "Man who slaps people ... hunted": not the claim's predicate
            continue
        if forms[1] == "VBD" and is_past_participle(word) and _next(words, k) in ("by", ""):
            # A headline's passive: "Foley beheaded by ISIS" -> "Foley not beheaded by ISIS"
            return _insert(claim, match.start(), in_case_of("not", word) + " ", NegationRule.PARTICIPLE_NOT)
        return _main_verb(claim, match, forms, word)
    return None


def _next(words: list[re.Match], k: int) -> str:
    return words[k + 1].group().lower() if k + 1 < len(words) else ""


def _headline_future(words: list[re.Match], k: int) -> bool:
    """ "to" + a verb's base form with no predicate after it: a headline's future ("Seth Rogen to play Wozniak")."""
    following = _next(words, k)
    if not getAllLemmas(following).get("VERB") or verb_forms(following) is not None:
        return False
    rest = [w.group().lower() for w in words[k + 2 :]]
    return not any(w in AUXILIARIES or verb_forms(w) is not None for w in rest)


def _reduced_relative(words: list[re.Match], k: int) -> bool:
    """A participle before the predicate ("A ship filled with rats is heading", "The attacker shot and killed on
    Parliament Hill is named"): followed by a preposition or "and", with an auxiliary later on."""
    if not is_past_participle(words[k].group()) or _next(words, k) not in PARTICIPLE_FOLLOWERS:
        return False
    return any(w.group().lower() in AUXILIARIES for w in words[k + 1 :])


def _after_determiner(words: list[re.Match], k: int) -> bool:
    """A verb form right after a determiner is a noun or an adjective ("the shows", "an abandoned dog")."""
    return words[k - 1].group().lower() in ("the", "a", "an", "its", "his", "her", "their", "our", "your", "my")


def _auxiliary(claim: str, words: list[re.Match], k: int) -> Negation:
    match, following = words[k], _next(words, k)
    if following in NEGATORS:
        return _cut(claim, match.end(), words[k + 1].end(), NegationRule.NEGATION_REMOVED)
    if following == "no":  # "there was no plot" -> "there was a plot"
        article = "an" if _next(words, k + 1)[:1] in tuple("aeiou") else "a"
        return _replace(claim, words[k + 1], article, NegationRule.NEGATION_REMOVED)
    lower = match.group().lower()
    if words[k - 1].group().lower() == "there" and following in DETERMINERS:
        return _replace(claim, words[k + 1], "no", NegationRule.THERE_IS_NO)
    if lower in COPULAS and following in ANTONYMS:  # "is true" -> "is false"
        antonym = in_case_of(ANTONYMS[following], words[k + 1].group())
        return _replace(claim, words[k + 1], antonym, NegationRule.ANTONYM)
    if lower in HAVE and following and not is_past_participle(following) and following not in ("been", "to"):
        support = "did" if lower == "had" else "does" if lower == "has" else "do"
        support, negator = in_case_of(support, match.group()), in_case_of("not", match.group())
        return _replace(claim, match, f"{support} {negator} {in_case_of('have', match.group())}", NegationRule.DO_NOT)
    return _insert(claim, match.end(), " " + in_case_of("not", match.group()), NegationRule.AUXILIARY_NOT)


def _main_verb(claim: str, match: re.Match, forms: tuple[str, str], word: str) -> Negation:
    lemma, tag = forms
    if tag == "VBD" and zlib.crc32(claim.encode()) % 2:
        return _insert(claim, match.start(), in_case_of("never", word) + " ", NegationRule.NEVER)
    support = "did" if tag == "VBD" else "does"
    base = in_case_of(lemma, word) if word.lower() != word else lemma
    return _replace(claim, match, f"{in_case_of(support, word)} {in_case_of('not', word)} {base}", NegationRule.DO_NOT)


def _replace(claim: str, match: re.Match, by: str, rule: NegationRule) -> Negation:
    return Negation(claim[: match.start()] + by + claim[match.end() :], rule)


def _insert(claim: str, at: int, text: str, rule: NegationRule) -> Negation:
    return Negation(claim[:at] + text + claim[at:], rule)


def _cut(claim: str, start: int, end: int, rule: NegationRule) -> Negation:
    """The claim without [start, end), and the one space it leaves doubled."""
    before, after = claim[:start].rstrip(" "), claim[end:].lstrip(" ")
    joined = f"{before} {after}" if before and after and after[0].isalnum() else before + after
    return Negation(joined, rule)


HAND_WRITTEN_FILE = Path(__file__).with_name("negations_hand.tsv")


@cache
def hand_written() -> dict[str, str]:
    """Claims (lower case, spaces folded) the rules get wrong, with negations written and checked by hand: one
    `claim<TAB>negation` a line in HAND_WRITTEN_FILE."""
    table = {}
    for line in HAND_WRITTEN_FILE.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            claim, negated = line.split("\t")
            table[" ".join(claim.split()).lower()] = negated.strip()
    return table
