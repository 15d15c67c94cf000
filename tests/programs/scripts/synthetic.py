"""Small deterministic synthetic data sets for the classic-program scripts (plain NumPy;
``bag_of_words`` builds ``scipy.sparse`` matrices).

The scripts import this module as the deeplearning.net tutorials import ``load_data``;
the NumPy references import it too, so both see byte-identical data.
"""

import json
import os
import sys

import numpy


def classification(seed=0, n_in=20, n_classes=3, sizes=(120, 40, 40), spread=0.35):
    """Gaussian blobs: ``[(train_x, train_y), (valid_x, valid_y), (test_x, test_y)]``."""
    rng = numpy.random.RandomState(seed)
    means = rng.randn(n_classes, n_in) * spread
    out = []
    for n in sizes:
        y = rng.randint(n_classes, size=n)
        x = means[y] + rng.randn(n, n_in)
        out.append((x.astype('float64'), y.astype('int64')))
    return out


def binary_patterns(seed=0, n=60, n_in=16, n_protos=4, flip=0.1):
    """Noisy copies of a few binary prototypes, values in {0, 1} (float64)."""
    rng = numpy.random.RandomState(seed)
    protos = rng.binomial(1, 0.5, size=(n_protos, n_in))
    which = rng.randint(n_protos, size=n)
    noise = rng.binomial(1, flip, size=(n, n_in))
    return numpy.abs(protos[which] - noise).astype('float64')


def soft_patterns(seed=0, n=60, n_in=16):
    """Values in (0, 1): sigmoid of a low-rank Gaussian field."""
    rng = numpy.random.RandomState(seed)
    z = rng.randn(n, 3).dot(rng.randn(3, n_in)) + 0.3 * rng.randn(n, n_in)
    return 1.0 / (1.0 + numpy.exp(-z))


def images(seed=0, n_classes=3, side=8, sizes=(48, 16, 16)):
    """Tiny one-channel images (flattened rows) of class-dependent blobs plus noise."""
    rng = numpy.random.RandomState(seed)
    protos = rng.randn(n_classes, side, side)
    out = []
    for n in sizes:
        y = rng.randint(n_classes, size=n)
        x = protos[y] + 0.5 * rng.randn(n, side, side)
        out.append((x.reshape(n, side * side).astype('float64'), y.astype('int64')))
    return out


def word_sentences(seed=0, n_sentences=12, vocab=15, n_labels=4, min_len=3, max_len=8):
    """Sentences of word indices with one label per word (label = f(word, previous word))."""
    rng = numpy.random.RandomState(seed)
    sents, labels = [], []
    for _ in range(n_sentences):
        n = rng.randint(min_len, max_len + 1)
        w = rng.randint(vocab, size=n)
        prev = numpy.concatenate([[0], w[:-1]])
        sents.append(w.astype('int64'))
        labels.append(((w + prev) % n_labels).astype('int64'))
    return sents, labels


def sentiment(seed=0, n=40, vocab=12, min_len=2, max_len=9):
    """(sequences, labels): label 1 when 'positive' words (index < vocab // 2) dominate."""
    rng = numpy.random.RandomState(seed)
    seqs, labels = [], []
    for _ in range(n):
        length = rng.randint(min_len, max_len + 1)
        s = rng.randint(1, vocab, size=length)
        seqs.append([int(v) for v in s])
        labels.append(int((s < vocab // 2).mean() > 0.5))
    return seqs, labels


def regression_1d(seed=0, n=30, n_test=8, noise=0.1):
    """Noisy samples of ``sin(3 x)`` on [-1, 1] (``(x, y)`` with ``x`` of shape ``(n, 1)``) and
    ``n_test`` test inputs."""
    rng = numpy.random.RandomState(seed)
    x = numpy.sort(rng.uniform(-1, 1, size=n))[:, None]
    y = numpy.sin(3 * x[:, 0]) + noise * rng.randn(n)
    return (x, y), numpy.linspace(-1.2, 1.2, n_test)[:, None]


def bag_of_words(seed=0, n_classes=3, vocab=200, sizes=(200, 50, 50), n_keywords=25,
                 min_words=6, max_words=16, keyword_share=0.5):
    """Word-count documents as rows of ``scipy.sparse.csr_matrix`` (float64, about 5% nonzero).

    Each class draws its words from a mixture of a shared background distribution and its own
    ``n_keywords`` keywords; every document has ``min_words`` to ``max_words`` tokens, so no row
    is empty.  Returns ``[(train_x, train_y), (valid_x, valid_y), (test_x, test_y)]`` with the
    labels as int64 vectors.
    """
    import scipy.sparse
    rng = numpy.random.RandomState(seed)
    background = rng.dirichlet(numpy.full(vocab, 0.5))
    topics = numpy.empty((n_classes, vocab))
    for c in range(n_classes):
        keywords = numpy.zeros(vocab)
        keywords[rng.choice(vocab, n_keywords, replace=False)] = rng.dirichlet(
            numpy.ones(n_keywords))
        topics[c] = (1 - keyword_share) * background + keyword_share * keywords
    out = []
    for n in sizes:
        y = rng.randint(n_classes, size=n)
        counts = numpy.zeros((n, vocab))
        for d in range(n):
            words = rng.choice(vocab, rng.randint(min_words, max_words + 1), p=topics[y[d]])
            counts[d] = numpy.bincount(words, minlength=vocab)
        out.append((scipy.sparse.csr_matrix(counts), y.astype('int64')))
    return out


def save_results(results):
    """Write ``results`` as JSON to ``sys.argv[1]`` (or ``$THX_PROGRAM_OUT``); else print it."""
    path = sys.argv[1] if len(sys.argv) > 1 else os.environ.get('THX_PROGRAM_OUT')
    text = json.dumps(results, indent=1)
    if path:
        with open(path, 'w') as f:
            f.write(text)
    else:
        print(text)


def piano_rolls(seed=0, n_sequences=3, length=12, n_notes=8):
    """Binary (time, note) sequences: a few rising arpeggios with random dropped notes."""
    rng = numpy.random.RandomState(seed)
    out = []
    for _ in range(n_sequences):
        roll = numpy.zeros((length, n_notes))
        start = rng.randint(n_notes)
        for t in range(length):
            for chord in (0, 2, 4):
                if rng.rand() > 0.15:
                    roll[t, (start + t + chord) % n_notes] = 1.0
        out.append(roll)
    return out
