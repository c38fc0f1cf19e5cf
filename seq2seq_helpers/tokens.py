"""The special token ids every module shares (a leaf: it imports nothing, so anything may import it).

Ids ``PAD=0``, ``SOS=1``, ``EOS=2`` are reserved in every vocabulary, so a special token can never collide with
a data token: data tokens start at ``NUM_SPECIAL`` (lesson 01 §2). ``UNK`` is the id lesson 07's subword
vocabulary gives a character its training data never had (``translation.SubwordVocab``); the letter and
character vocabularies of ``data.Vocab`` have no unknown token, they refuse what they do not know.
"""

PAD, SOS, EOS = 0, 1, 2
SPECIAL_TOKENS = ("<pad>", "<sos>", "<eos>")
NUM_SPECIAL = len(SPECIAL_TOKENS)
UNK = NUM_SPECIAL  # translation.SubwordVocab's first id after the special ones

__all__ = ["EOS", "NUM_SPECIAL", "PAD", "SOS", "SPECIAL_TOKENS", "UNK"]
