"""seq2seq_helpers: the importable code of the seq2seq course (data, models, decoding, training, plots)."""

from .data import EOS, PAD, SOS, Batch, SequenceTask, Vocab, collate_pairs, make_splits, pad_sequences
from .metrics import accuracy_by_bucket, accuracy_by_length, exact_match, token_accuracy
from .training import History, fit, masked_cross_entropy, seq2seq_step
from .utils import count_parameters, get_device, seed_everything

__all__ = [
    "EOS",
    "PAD",
    "SOS",
    "Batch",
    "History",
    "SequenceTask",
    "Vocab",
    "accuracy_by_bucket",
    "accuracy_by_length",
    "collate_pairs",
    "count_parameters",
    "exact_match",
    "fit",
    "get_device",
    "make_splits",
    "masked_cross_entropy",
    "pad_sequences",
    "seed_everything",
    "seq2seq_step",
    "token_accuracy",
]
__version__ = "0.1.0"

# The GitHub repository the course lives in ("owner/name"): the Colab badges, the Colab install cell and
# the Binder links all use it, and a test checks they agree with this one value.
REPOSITORY = "seq2seq-course/seq2seq-course"
