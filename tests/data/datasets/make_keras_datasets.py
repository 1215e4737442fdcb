#!/usr/bin/python3
"""Writes small files in the formats of Keras's built-in data sets, and what Keras's
load_data returns for them (tests/test_keras_datasets_pickled.cpp reads both).

- cifar-10-python.tar.gz, cifar-100-python.tar.gz: the layout of the real archives; each batch
  a Python 2 pickle (protocol 2, `str` as BINSTRING, as the real batches were written) of a
  dict holding a NumPy uint8 array and lists of ints.
- imdb.npz, reuters.npz: np.savez of NumPy object arrays of lists (pickled by NumPy), as the
  real files; imdb_word_index.json.
- expected.json: Keras's load_data steps (keras/src/datasets/{imdb,reuters,cifar*}.py) run
  here with NumPy's RandomState, for a few argument sets.

Run: /usr/bin/python3 make_keras_datasets.py  (numpy only; no Keras needed)
"""
import io
import json
import os
import pickle
import tarfile

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))


class Py2Pickler(pickle._Pickler):
    """Protocol 2 with bytes written as Python 2 `str` (BINSTRING), as cPickle did."""

    def save_bytes(self, obj):
        n = len(obj)
        if n < 256:
            self.write(pickle.SHORT_BINSTRING + bytes([n]) + obj)
        else:
            self.write(pickle.BINSTRING + n.to_bytes(4, "little") + obj)
        self.memoize(obj)

    dispatch = dict(pickle._Pickler.dispatch)
    dispatch[bytes] = save_bytes


def py2_pickle(obj):
    f = io.BytesIO()
    Py2Pickler(f, protocol=2).dump(obj)
    return f.getvalue()


def add(tar, name, data):
    info = tarfile.TarInfo(name)
    info.size = len(data)
    tar.addfile(info, io.BytesIO(data))


rng = np.random.RandomState(7)
expected = {}

# CIFAR-10: 5 training batches of 3 images, a test batch of 2.
batches = []
with tarfile.open(os.path.join(HERE, "cifar-10-python.tar.gz"), "w:gz", format=tarfile.GNU_FORMAT) as tar:
    add(tar, "cifar-10-batches-py/batches.meta", py2_pickle({b"label_names": [b"airplane"]}))
    for name, n in [("data_batch_%d" % i, 3) for i in range(1, 6)] + [("test_batch", 2)]:
        data = rng.randint(0, 256, size=(n, 3072)).astype(np.uint8)
        labels = [int(v) for v in rng.randint(0, 10, size=n)]
        add(tar, "cifar-10-batches-py/" + name,
            py2_pickle({b"batch_label": b"batch " + name.encode(), b"labels": labels,
                        b"data": data, b"filenames": [b"f%d.png" % k for k in range(n)]}))
        batches.append((data, labels))
x_train = np.concatenate([b[0] for b in batches[:5]]).reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)
y_train = np.concatenate([b[1] for b in batches[:5]])
x_test = batches[5][0].reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)
expected["cifar10"] = {
    "x_train_shape": list(x_train.shape), "x_test_shape": list(x_test.shape),
    "y_train": y_train.tolist(), "y_test": list(batches[5][1]),
    "x_train_checksum": int((x_train.astype(np.int64).ravel() * (np.arange(x_train.size) % 7 + 1)).sum()),
    "x_test_first": x_test[0, 0, 0].tolist(), "x_train_last": x_train[-1, 31, 31].tolist(),
}

# CIFAR-100: train of 4, test of 2, fine and coarse labels.
with tarfile.open(os.path.join(HERE, "cifar-100-python.tar.gz"), "w:gz", format=tarfile.GNU_FORMAT) as tar:
    e = {}
    for name, n in [("train", 4), ("test", 2)]:
        data = rng.randint(0, 256, size=(n, 3072)).astype(np.uint8)
        fine = [int(v) for v in rng.randint(0, 100, size=n)]
        coarse = [int(v) for v in rng.randint(0, 20, size=n)]
        add(tar, "cifar-100-python/" + name,
            py2_pickle({b"filenames": [b"x.png"] * n, b"batch_label": b"training batch 1 of 1",
                        b"fine_labels": fine, b"coarse_labels": coarse, b"data": data}))
        e[name] = {"fine": fine, "coarse": coarse,
                   "x_pixel_1_2": data.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)[:, 1, 2].tolist()}
    add(tar, "cifar-100-python/meta", py2_pickle({b"fine_label_names": [b"apple"]}))
expected["cifar100"] = e


# IMDB / Reuters: object arrays of lists of word ids (as the real files hold).
def seqs(n, vocab):
    out = np.empty(n, dtype=object)
    for i in range(n):
        out[i] = [int(v) for v in rng.randint(1, vocab, size=rng.randint(1, 9))]
    return out


imdb = {"x_train": seqs(12, 40), "y_train": rng.randint(0, 2, size=12).astype(np.int64),
        "x_test": seqs(9, 40), "y_test": rng.randint(0, 2, size=9).astype(np.int64)}
np.savez(os.path.join(HERE, "imdb.npz"), **imdb)
reuters = {"x": seqs(15, 30), "y": rng.randint(0, 46, size=15).astype(np.int64)}
np.savez(os.path.join(HERE, "reuters.npz"), **reuters)
with open(os.path.join(HERE, "imdb_word_index.json"), "w") as f:
    json.dump({"the": 1, "and": 2, "a": 3, "of": 4}, f)


def remove_long_seq(maxlen, seq, label):  # keras/src/utils/python_utils.py
    new_seq, new_label = [], []
    for x, y in zip(seq, label):
        if len(x) < maxlen:
            new_seq.append(x)
            new_label.append(y)
    return new_seq, new_label


def keras_imdb(f, num_words=None, skip_top=0, maxlen=None, seed=113, start_char=1, oov_char=2,
               index_from=3):
    x_train, labels_train = f["x_train"], f["y_train"]
    x_test, labels_test = f["x_test"], f["y_test"]
    rng = np.random.RandomState(seed)
    indices = np.arange(len(x_train))
    rng.shuffle(indices)
    x_train = x_train[indices]
    labels_train = labels_train[indices]
    indices = np.arange(len(x_test))
    rng.shuffle(indices)
    x_test = x_test[indices]
    labels_test = labels_test[indices]
    if start_char is not None:
        x_train = [[start_char] + [w + index_from for w in x] for x in x_train]
        x_test = [[start_char] + [w + index_from for w in x] for x in x_test]
    elif index_from:
        x_train = [[w + index_from for w in x] for x in x_train]
        x_test = [[w + index_from for w in x] for x in x_test]
    else:
        x_train = [[w for w in x] for x in x_train]
        x_test = [[w for w in x] for x in x_test]
    if maxlen:
        x_train, labels_train = remove_long_seq(maxlen, x_train, labels_train)
        x_test, labels_test = remove_long_seq(maxlen, x_test, labels_test)
    xs = x_train + x_test
    labels = np.concatenate([labels_train, labels_test])
    if not num_words:
        num_words = max(max(x) for x in xs)
    if oov_char is not None:
        xs = [[w if (skip_top <= w < num_words) else oov_char for w in x] for x in xs]
    else:
        xs = [[w for w in x if skip_top <= w < num_words] for x in xs]
    idx = len(x_train)
    return (xs[:idx], labels[:idx].tolist()), (xs[idx:], labels[idx:].tolist())


def keras_reuters(f, num_words=None, skip_top=0, maxlen=None, test_split=0.2, seed=113,
                  start_char=1, oov_char=2, index_from=3):
    xs, labels = f["x"], f["y"]
    rng = np.random.RandomState(seed)
    indices = np.arange(len(xs))
    rng.shuffle(indices)
    xs = xs[indices]
    labels = labels[indices]
    if start_char is not None:
        xs = [[start_char] + [w + index_from for w in x] for x in xs]
    elif index_from:
        xs = [[w + index_from for w in x] for x in xs]
    if maxlen:
        xs, labels = remove_long_seq(maxlen, xs, labels)
    if not num_words:
        num_words = max(max(x) for x in xs)
    if oov_char is not None:
        xs = [[w if skip_top <= w < num_words else oov_char for w in x] for x in xs]
    else:
        xs = [[w for w in x if skip_top <= w < num_words] for x in xs]
    idx = int(len(xs) * (1 - test_split))
    return (xs[:idx], list(labels[:idx])), (xs[idx:], list(labels[idx:]))


def as_json(result):
    (xtr, ytr), (xte, yte) = result
    return {"x_train": [[int(w) for w in x] for x in xtr], "y_train": [int(v) for v in ytr],
            "x_test": [[int(w) for w in x] for x in xte], "y_test": [int(v) for v in yte]}


cases = [{}, {"num_words": 20, "skip_top": 5}, {"maxlen": 6, "seed": 7},
         {"start_char": None, "oov_char": None, "num_words": 25, "index_from": 0},
         {"start_char": None, "index_from": 2, "skip_top": 4}]
expected["imdb"] = [{"args": c, **as_json(keras_imdb(imdb, **c))} for c in cases]
expected["reuters"] = [{"args": c, **as_json(keras_reuters(reuters, **c))}
                       for c in cases + [{"test_split": 0.5, "seed": 1}]]
with open(os.path.join(HERE, "expected.json"), "w") as f:
    json.dump(expected, f, indent=0)
