#!/usr/bin/python3
"""Compares the HDF5 tree of a legacy Keras .h5 model file written by plexus with one
written by Keras (same architecture): root attributes, the legacy model_config's shape,
model_weights' attributes, each layer group's weight_names and datasets. Exit status 0
when they agree; prints each difference otherwise. Needs h5py (Debian python3-h5py)."""
import json
import sys

import h5py


def text(v):
    return v.decode("utf8") if isinstance(v, bytes) else str(v)


def texts(v):
    return [text(x) for x in v]


def main(keras_path, plexus_path):
    errors = []
    k, p = h5py.File(keras_path, "r"), h5py.File(plexus_path, "r")
    for key in ("backend", "keras_version", "model_config"):
        if key not in p.attrs:
            errors.append(f"root attribute {key} missing")
    if set(k.attrs) - {"training_config"} != set(p.attrs) - {"training_config"}:
        errors.append(f"root attributes {sorted(k.attrs)} vs {sorted(p.attrs)}")
    kc, pc = json.loads(text(k.attrs["model_config"])), json.loads(text(p.attrs["model_config"]))
    if sorted(kc) != sorted(pc):
        errors.append(f"model_config keys {sorted(kc)} vs {sorted(pc)}")
    if kc["class_name"] != pc["class_name"]:
        errors.append(f"model class {kc['class_name']} vs {pc['class_name']}")
    kl, pl = kc["config"]["layers"], pc["config"]["layers"]
    if [l["class_name"] for l in kl] != [l["class_name"] for l in pl]:
        errors.append("layer classes differ")
    for a, b in zip(kl, pl):
        if sorted(a) != sorted(b):
            errors.append(f"layer entry keys {sorted(a)} vs {sorted(b)}")
    kw, pw = k["model_weights"], p["model_weights"]
    if sorted(kw.attrs) != sorted(pw.attrs):
        errors.append(f"model_weights attributes {sorted(kw.attrs)} vs {sorted(pw.attrs)}")
    names = texts(kw.attrs["layer_names"])
    if names != texts(pw.attrs["layer_names"]):
        errors.append(f"layer_names {names} vs {texts(pw.attrs['layer_names'])}")
    if sorted(kw) != sorted(pw):
        errors.append(f"model_weights groups {sorted(kw)} vs {sorted(pw)}")
    for name in names:
        if name not in pw:
            continue
        kn, pn = texts(kw[name].attrs["weight_names"]), texts(pw[name].attrs["weight_names"])
        if len(kn) != len(pn):
            errors.append(f"{name}: {len(kn)} weights vs {len(pn)}")
            continue
        for a, b in zip(kn, pn):
            da, db = kw[name][a], pw[name][b]
            if da.shape != db.shape or da.dtype != db.dtype:
                errors.append(f"{name}: {a} {da.shape} {da.dtype} vs {b} {db.shape} {db.dtype}")
    if "top_level_model_weights" not in pw:
        errors.append("no top_level_model_weights group")
    for e in errors:
        print(e)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
