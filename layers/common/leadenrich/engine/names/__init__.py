"""Person names from an LLM answer or a CSV row, and their ASCII spellings for e-mail local parts.

Every address we guess costs one verification, so this package does two things carefully: ``parsing``
refuses text that is not one person's name (an LLM will happily answer "Not available", "Board of
Directors" or a sentence), and ``spellings`` ranks the ASCII spellings of a name so that the likely one is
verified first. ``lexicon`` holds the word lists both read.

Decisions worth knowing:

* German umlauts (ä ö ü) give two spellings. The digraph one ("mueller") comes first: people with umlauts
  in their names mostly work at DACH organisations, whose directories follow DIN 5007-2 / the ICAO
  passport convention (ü → ue); stripping the dots ("muller") is what Anglo-American systems do, so it
  is always the second guess. A name that shows Nordic, Turkish, Hungarian, Spanish or Finnish signs
  (å ø æ ð þ ş ğ ı ő ű õ ñ á í ó ú ã ç, or a word ending in "-nen") flips the order, because those
  languages never write ö as "oe". ø and å likewise give "o"/"oe" and "a"/"aa", plain first.
* Spellings are chosen per person, not per word: "Jürgen Müller" gives "juergen mueller" and
  "jurgen muller" before any mixed form, since one mail system applies one convention. A word with more
  than three such letters in separate hyphen parts only gets the two consistent spellings: the mixes
  would double with every part ("Ä-Ä-Ä-…" is untrusted input), and they rank last anyway.
* A leading lone initial followed by a full name ("J. Robert Oppenheimer") means the person goes by the
  middle name: the display keeps given "J." and middle "Robert"; the variants try "robert" first and the
  initial second.
* Name particles (van, von der, de la, bin, al ...) stay in the displayed family name; the variants try
  the joined form ("vanderberg") before the bare core ("berg"). Mac/Mc are part of the word.
* Spanish and Portuguese devotional given names ("María del Carmen", "José de Jesús", "Maria das
  Graças") keep the phrase in the given name when more words follow; the variants try the first word
  ("maria") before the joined form ("mariadelcarmen"). At the end of a name the phrase is a family name.
* Hyphenated words give, in order, the hyphen kept ("jean-luc"), removed ("jeanluc") and the first part
  ("jean"); the candidates module decides which patterns use them.
* Vietnamese names written family-first ("Nguyễn Văn An") and CJK names ("王伟", "毛 泽东") are recognised
  and stored with ``family_first=True`` so ``full`` shows them in their native order. A Vietnamese
  given name that is also a surname ("Nguyễn Thị Mai") does not change that, except for a minor surname
  before a major one ("Mai Nguyễn", given-first).
* Perplexity citation markers ("Jane Doe[1]") are removed before validation; any other bracket, digit,
  "@", "/" or ":" makes the text a non-name.
* A bare surname behind an honorific ("Mr. Smith") is refused: it cannot fill a first-name pattern.
* anyascii does the transliteration, except where its letter-by-letter output is not how people spell
  their names: Greek ου/ευ/γγ (Papadopoulos, Stavros, Evangelos), Russian -iy/-ey endings (Dmitriy and
  Dmitry are both offered) and the common Korean surnames (Kim, Lee, Park before Gim, I, Bak).
* Known limits: kanji get Mandarin readings; Spanish double surnames without a hyphen parse as middle +
  family; "García López, María" is read as the name "García López", since a two-word segment before a
  comma cannot be told from "Jane Doe, Acme".
"""

from __future__ import annotations

from leadenrich.engine.names.parsing import parse_person_name, person_from_parts
from leadenrich.engine.names.spellings import MAX_VARIANTS, NameVariant, PersonName, transliterations

__all__ = [
    "MAX_VARIANTS",
    "NameVariant",
    "PersonName",
    "parse_person_name",
    "person_from_parts",
    "transliterations",
]
