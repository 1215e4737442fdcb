#!/usr/bin/env python3
"""Reference outputs for the Keras 2 conv models of ../shared/keras_files/hls4ml_example_models.

Extends ../shared/keras_files/reference.py (an independent numpy forward pass read straight
from the files) with Conv1D / Conv2D (channels_last, padding valid/same split as TF does,
strides, dilation), then writes <stem>.input0.txt (seeded normal inputs) and
<stem>.output0.txt here. Run from the repository root:
  python3 tests/data/keras_files/conv_reference.py ../shared/keras_files
"""
import os, sys
import numpy as np

shared = sys.argv[1] if len(sys.argv) > 1 else os.path.join('..', 'shared', 'keras_files')
sys.path.insert(0, shared)
import reference as R  # noqa: E402

def conv(x, k, strides, dilation, padding):
    """x: (N, *spatial, C); k: (*ks, C, F); a plain loop over output positions."""
    rank = x.ndim - 2
    outs, pads = [], []
    for a in range(rank):
        n, kk, s, d = x.shape[1 + a], k.shape[a], strides[a], dilation[a]
        ke = (kk - 1) * d + 1
        if padding == 'same':
            o = -(-n // s)
            total = max((o - 1) * s + ke - n, 0)
            pads.append((total // 2, total - total // 2))
        else:
            o = (n - ke) // s + 1
            pads.append((0, 0))
        outs.append(o)
    xp = np.pad(x, [(0, 0)] + pads + [(0, 0)])
    y = np.zeros((x.shape[0], *outs, k.shape[-1]))
    for pos in np.ndindex(*outs):
        acc = np.zeros((x.shape[0], k.shape[-1]))
        for tap in np.ndindex(*k.shape[:rank]):
            idx = tuple(pos[a] * strides[a] + tap[a] * dilation[a] for a in range(rank))
            acc += xp[(slice(None),) + idx + (slice(None),)] @ k[tap]
        y[(slice(None),) + pos + (slice(None),)] = acc
    return y

orig_apply = R.apply

def apply(layer, inputs, W):
    cls, c = layer['class_name'], layer['config']
    if cls in ('Conv1D', 'Conv2D'):
        assert c.get('data_format') in (None, 'channels_last') and c.get('groups', 1) == 1
        rank = 1 if cls == 'Conv1D' else 2
        tup = lambda v: list(v) if isinstance(v, (list, tuple)) else [v] * rank
        w = W[c['name']]
        y = conv(inputs[0].astype(np.float64), w[0], tup(c.get('strides', 1)),
                 tup(c.get('dilation_rate', 1)), c.get('padding', 'valid'))
        if c.get('use_bias', True): y = y + w[1]
        return R.ACT[R.act_name(c.get('activation'))](y)
    return orig_apply(layer, inputs, W)

R.apply = apply

here = os.path.dirname(os.path.abspath(__file__))
rng = np.random.default_rng(13)
for stem, shape in (('KERAS_conv2d_model', (4, 8, 8, 1)), ('KERAS_conv1d_small', (4, 10, 4))):
    d = os.path.join(shared, 'hls4ml_example_models')
    cfg, W = R.load(os.path.join(d, stem + '_weights.h5'), os.path.join(d, stem + '.json'))
    x = rng.standard_normal(shape).astype(np.float32)
    R.save_txt(os.path.join(here, stem + '.input0.txt'), x)
    x = R.load_txt(os.path.join(here, stem + '.input0.txt'))  # the values as written
    ys = R.run_model(cfg, W, [x])
    R.save_txt(os.path.join(here, stem + '.output0.txt'), ys[0])
    print(stem, 'output', ys[0].shape)
