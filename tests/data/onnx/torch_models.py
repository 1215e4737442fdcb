#!/usr/bin/python3
"""ONNX files PyTorch exports, for tests/test_onnx.cpp's import test.
usage: /usr/bin/python3 torch_models.py OUTDIR
Writes OUTDIR/NAME.onnx (opset 17, dynamic batch), NAME.input.txt and NAME.output.txt
(PyTorch's prediction; "# shape: d0 d1 ..." then the values) for NAME in mlp, convnet,
lstm, resblock."""
import os
import sys

import torch
import torch.nn as nn

out = sys.argv[1] if len(sys.argv) > 1 else "."
os.makedirs(out, exist_ok=True)
torch.manual_seed(0)


class MLP(nn.Module):
    def __init__(s):
        super().__init__()
        s.a, s.b = nn.Linear(20, 16), nn.Linear(16, 4)

    def forward(s, x):
        return torch.softmax(s.b(torch.tanh(s.a(x))), -1)


class Convnet(nn.Module):
    def __init__(s):
        super().__init__()
        s.c1 = nn.Conv2d(1, 6, 3, padding=1)
        s.c2 = nn.Conv2d(6, 8, 3, stride=2, padding=1)
        s.fc = nn.Linear(8 * 3 * 3, 5)

    def forward(s, x):
        x = torch.max_pool2d(torch.relu(s.c1(x)), 2)
        x = torch.relu(s.c2(x))
        return s.fc(x.flatten(1))


class LSTMNet(nn.Module):
    def __init__(s):
        super().__init__()
        s.rnn, s.fc = nn.LSTM(6, 8, batch_first=True), nn.Linear(8, 3)

    def forward(s, x):
        _, (h, _) = s.rnn(x)
        return torch.sigmoid(s.fc(h[-1]))


class ResBlock(nn.Module):
    def __init__(s):
        super().__init__()
        s.stem = nn.Conv2d(3, 8, 3, padding=1, bias=False)
        s.bn0 = nn.BatchNorm2d(8)
        s.c1 = nn.Conv2d(8, 8, 3, padding=1, bias=False)
        s.bn1 = nn.BatchNorm2d(8)
        s.c2 = nn.Conv2d(8, 8, 3, padding=1, bias=False)
        s.bn2 = nn.BatchNorm2d(8)
        s.fc = nn.Linear(8, 4)

    def forward(s, x):
        x = torch.relu(s.bn0(s.stem(x)))
        y = torch.relu(s.bn1(s.c1(x)))
        y = s.bn2(s.c2(y))
        x = torch.relu(x + y)
        return s.fc(torch.flatten(nn.functional.adaptive_avg_pool2d(x, 1), 1))


def save(path, t):
    t = t.detach().numpy()
    with open(path, "w") as f:
        f.write("# shape: " + " ".join(str(d) for d in t.shape) + "\n")
        f.write(" ".join(repr(float(v)) for v in t.reshape(-1)) + "\n")


models = [("mlp", MLP(), (16, 20)), ("convnet", Convnet(), (16, 1, 12, 12)),
          ("lstm", LSTMNet(), (16, 5, 6)), ("resblock", ResBlock(), (16, 3, 8, 8))]
for name, m, shape in models:
    for mod in m.modules():  # statistics that are not the identity
        if isinstance(mod, nn.BatchNorm2d):
            mod.running_mean.uniform_(-0.5, 0.5)
            mod.running_var.uniform_(0.5, 1.5)
            mod.weight.data.uniform_(0.5, 1.5)
            mod.bias.data.uniform_(-0.5, 0.5)
    m.eval()
    x = torch.randn(*shape)
    torch.onnx.export(m, x[:1], os.path.join(out, name + ".onnx"), input_names=["x"],
                      output_names=["y"], dynamic_axes={"x": {0: "batch"}, "y": {0: "batch"}},
                      opset_version=17)
    with torch.no_grad():
        save(os.path.join(out, name + ".input.txt"), x)
        save(os.path.join(out, name + ".output.txt"), m(x))
    print("wrote", name)
