#!/usr/bin/python3
"""Exports the test models of the ONNX model runner, with expected outputs.

Each model is a small PyTorch module with fixed-seed weights, exported by
torch.onnx.export (opset 17) to tests/models/<name>.onnx, and run by
PyTorch on two input sets, written as .npy:

    tests/models/<name>/b1/inputs/<input name>.npy    batch 1
    tests/models/<name>/b1/outputs/<output name>.npy
    tests/models/<name>/b3/...                         batch 3, other lengths

Run with Debian 12's python3-torch (1.13) and python3-onnx (1.12):

    /usr/bin/python3 tests/models/export.py          # writes tests/models/
    /usr/bin/python3 tests/models/export.py --out DIR

Re-running gives byte-identical files (fixed seeds, one thread, no
timestamps in what torch.onnx.export writes).  tests/models/README.md
lists what each model contains (tests/models/inspect_models.py writes that).
"""

import argparse
import io
import os
import shutil

import numpy as np
import onnx
import onnx.numpy_helper
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

OPSET = 17


# ---------------------------------------------------------------- models

class LstmClassifier(nn.Module):
    """(a) Text classifier: Embedding, LSTM over packed variable-length
    sequences, Linear on the last valid hidden state.  enforce_sorted=True
    (lengths in descending order): the exporter then passes the lengths
    straight to the LSTM's sequence_lens; with enforce_sorted=False it adds
    a TopK sort, Gather and a ScatterElements un-sort (README.md)."""

    def __init__(self, vocab=60, emb=16, hidden=32, classes=4):
        super().__init__()
        self.emb = nn.Embedding(vocab, emb, padding_idx=0)
        self.lstm = nn.LSTM(emb, hidden, batch_first=True)
        self.fc = nn.Linear(hidden, classes)

    def forward(self, tokens, lengths):
        x = self.emb(tokens)
        packed = pack_padded_sequence(x, lengths, batch_first=True,
                                      enforce_sorted=True)
        # An explicit zero state: the exporter's implicit one is a constant
        # of the example's batch size, Expanded (wrongly) to the run's.
        h0 = x.new_zeros(1, x.shape[0], self.lstm.hidden_size)
        _, (h, _) = self.lstm(packed, (h0, h0))
        return self.fc(h[-1])


class GruTagger(nn.Module):
    """(b) Sequence tagger: Embedding, 2-layer bidirectional GRU, Linear
    per position."""

    def __init__(self, vocab=100, emb=24, hidden=32, tags=9):
        super().__init__()
        self.emb = nn.Embedding(vocab, emb)
        self.gru = nn.GRU(emb, hidden, num_layers=2, bidirectional=True,
                          batch_first=True)
        self.fc = nn.Linear(2 * hidden, tags)

    def forward(self, tokens):
        y, _ = self.gru(self.emb(tokens))
        return self.fc(y)


class Seq2SeqEncoder(nn.Module):
    """(c) Encoder: Embedding, GRU over packed source sentences (lengths in
    descending order), outputs padded back to the input's length."""

    def __init__(self, vocab=70, emb=16, hidden=32):
        super().__init__()
        self.emb = nn.Embedding(vocab, emb, padding_idx=0)
        self.gru = nn.GRU(emb, hidden, batch_first=True)

    def forward(self, src, src_lengths):
        packed = pack_padded_sequence(self.emb(src), src_lengths,
                                      batch_first=True, enforce_sorted=True)
        h0 = src.new_zeros(1, src.shape[0], self.gru.hidden_size,
                           dtype=torch.float32)        # as in the classifier
        y, h = self.gru(packed, h0)
        y, _ = pad_packed_sequence(y, batch_first=True,
                                   total_length=src.shape[1])
        return y, h


class Seq2SeqDecoderStep(nn.Module):
    """(c) One decoder step with additive (Bahdanau) attention over the
    encoder outputs; src_mask is True at padding."""

    def __init__(self, vocab=70, emb=16, hidden=32):
        super().__init__()
        self.emb = nn.Embedding(vocab, emb)
        self.wq = nn.Linear(hidden, hidden, bias=False)
        self.wk = nn.Linear(hidden, hidden)
        self.v = nn.Linear(hidden, 1, bias=False)
        self.gru = nn.GRU(emb + hidden, hidden, batch_first=True)
        self.out = nn.Linear(2 * hidden, vocab)

    def forward(self, token, hidden, enc_out, src_mask):
        q = self.wq(hidden[-1]).unsqueeze(1)                  # [B,1,H]
        e = self.v(torch.tanh(q + self.wk(enc_out))).squeeze(-1)  # [B,S]
        e = e.masked_fill(src_mask, float("-inf"))
        attn = torch.softmax(e, dim=-1)
        ctx = torch.bmm(attn.unsqueeze(1), enc_out)           # [B,1,H]
        x = torch.cat([self.emb(token).unsqueeze(1), ctx], dim=-1)
        y, h = self.gru(x, hidden)
        logits = self.out(torch.cat([y, ctx], dim=-1).squeeze(1))
        return F.log_softmax(logits, dim=-1), h, attn


class TransformerLayer(nn.Module):
    """(d) nn.TransformerEncoderLayer, batch_first, GELU, with a key padding
    mask (True at padding)."""

    def __init__(self, d_model=32, nhead=4, ff=64):
        super().__init__()
        self.layer = nn.TransformerEncoderLayer(
            d_model, nhead, dim_feedforward=ff, dropout=0.0,
            activation="gelu", batch_first=True)

    def forward(self, x, src_key_padding_mask):
        return self.layer(x, src_key_padding_mask=src_key_padding_mask)


class SpeechModel(nn.Module):
    """(e) Streaming speech-style model: Conv1d, ReLU, Conv1d (stride 2),
    LSTM carrying its state across chunks, Linear, Sigmoid."""

    def __init__(self, feats=20, ch=32, hidden=48, outs=8):
        super().__init__()
        self.conv1 = nn.Conv1d(feats, ch, 3, padding=1)
        self.conv2 = nn.Conv1d(ch, ch, 3, stride=2, padding=1)
        self.lstm = nn.LSTM(ch, hidden, batch_first=True)
        self.fc = nn.Linear(hidden, outs)

    def forward(self, feats, h0, c0):
        x = self.conv2(F.relu(self.conv1(feats.transpose(1, 2))))
        y, (h, c) = self.lstm(x.transpose(1, 2), (h0, c0))
        return torch.sigmoid(self.fc(y)), h, c


class CharLmStep(nn.Module):
    """(f) Character language model step: Embedding, LSTM with (h, c) in
    and out, Linear, LogSoftmax.  Takes T >= 1 tokens (1 when sampling,
    more for a prompt)."""

    def __init__(self, vocab=64, emb=16, hidden=64):
        super().__init__()
        self.emb = nn.Embedding(vocab, emb)
        self.lstm = nn.LSTM(emb, hidden, batch_first=True)
        self.fc = nn.Linear(hidden, vocab)

    def forward(self, tokens, h0, c0):
        y, (h, c) = self.lstm(self.emb(tokens), (h0, c0))
        return F.log_softmax(self.fc(y), dim=-1), h, c


# ---------------------------------------------------------- input sets

def tokens(g, vocab, b, t, lengths=None):
    x = torch.randint(1, vocab, (b, t), generator=g)
    if lengths is not None:
        for i, n in enumerate(lengths):
            x[i, n:] = 0                                    # padding_idx
    return x


def pad_mask(lengths, t):
    return torch.arange(t)[None, :] >= torch.tensor(lengths)[:, None]


def state(g, b, h):
    return 0.5 * torch.randn(1, b, h, generator=g)


def sets_classifier(g):
    return [(tokens(g, 60, 1, 9), torch.tensor([9])),
            (tokens(g, 60, 3, 6, [6, 4, 2]), torch.tensor([6, 4, 2]))]


def sets_tagger(g):
    return [(tokens(g, 100, 1, 11),), (tokens(g, 100, 3, 5),)]


def sets_encoder(g):
    return [(tokens(g, 70, 1, 7), torch.tensor([7])),
            (tokens(g, 70, 3, 5, [5, 3, 1]), torch.tensor([5, 3, 1]))]


def sets_decoder(g, encoder):
    # The decoder step runs on what the encoder gives for its input sets.
    out = []
    for src, lens in sets_encoder(g):
        with torch.no_grad():
            enc_out, h = encoder(src, lens)
        b = src.shape[0]
        out.append((torch.randint(1, 70, (b,), generator=g), h, enc_out,
                    pad_mask(lens.tolist(), src.shape[1])))
    return out


def sets_transformer(g):
    return [(torch.randn(1, 8, 32, generator=g), pad_mask([8], 8)),
            (torch.randn(3, 5, 32, generator=g), pad_mask([5, 3, 4], 5))]


def sets_speech(g):
    return [(torch.randn(1, 16, 20, generator=g), state(g, 1, 48),
             state(g, 1, 48)),
            (torch.randn(3, 9, 20, generator=g), state(g, 3, 48),
             state(g, 3, 48))]


def sets_charlm(g):
    return [(tokens(g, 64, 1, 1), state(g, 1, 64), state(g, 1, 64)),
            (tokens(g, 64, 3, 4), state(g, 3, 64), state(g, 3, 64))]


# ---------------------------------------------------------------- export

def export(module, args, inputs, outputs, dynamic):
    """torch.onnx.export to an in-memory ModelProto."""
    buf = io.BytesIO()
    torch.onnx.export(module, args, buf, opset_version=OPSET,
                      input_names=inputs, output_names=outputs,
                      dynamic_axes=dynamic, do_constant_folding=True)
    return onnx.load_from_string(buf.getvalue())


def write_sets(outdir, name, module, sets, inputs, outputs):
    base = os.path.join(outdir, name)
    if os.path.isdir(base):
        shutil.rmtree(base)
    for label, args in zip(("b1", "b3"), sets):
        # Not under no_grad: with grad enabled TransformerEncoderLayer
        # always takes its plain path (the one the exporter traces), never
        # the fused fast path, which can return 0 at padded positions.
        res = module(*args)
        if not isinstance(res, tuple):
            res = (res,)
        res = tuple(r.detach() for r in res)
        for kind, names, vals in (("inputs", inputs, args),
                                  ("outputs", outputs, res)):
            d = os.path.join(base, label, kind)
            os.makedirs(d)
            for n, v in zip(names, vals):
                np.save(os.path.join(d, n + ".npy"), v.detach().numpy())


def fp16_initializers(model):
    """Stores every float initializer as float16, read back through a Cast
    node to float: the shape of a model saved with half-precision weights
    and float inputs/outputs.  The runner's loader folds these Casts."""
    g = model.graph
    casts = []
    for init in g.initializer:
        if init.data_type != onnx.TensorProto.FLOAT:
            continue
        arr = onnx.numpy_helper.to_array(init).astype(np.float16)
        name = init.name
        init.CopyFrom(onnx.numpy_helper.from_array(arr, name + "_fp16"))
        casts.append(onnx.helper.make_node(
            "Cast", [name + "_fp16"], [name], name=name + "_cast",
            to=onnx.TensorProto.FLOAT))
    nodes = casts + list(g.node)
    del g.node[:]
    g.node.extend(nodes)
    return model


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=os.path.dirname(os.path.abspath(
        __file__)), help="output folder (default: this script's folder)")
    args = ap.parse_args()
    out = args.out
    os.makedirs(out, exist_ok=True)
    torch.set_num_threads(1)          # same float sums on every run

    def build(cls, seed, **kw):
        torch.manual_seed(seed)
        return cls(**kw).eval()

    bt = {0: "batch", 1: "seq"}
    b = {0: "batch"}
    state_ax = {1: "batch"}
    specs = []

    m = build(LstmClassifier, 1)
    specs.append(("lstm_classifier", m, sets_classifier,
                  ["tokens", "lengths"], ["logits"],
                  {"tokens": bt, "lengths": b, "logits": b}))
    m = build(GruTagger, 2)
    specs.append(("gru_tagger", m, sets_tagger, ["tokens"], ["tags"],
                  {"tokens": bt, "tags": bt}))
    enc = build(Seq2SeqEncoder, 3)
    specs.append(("seq2seq_encoder", enc, sets_encoder,
                  ["src", "src_lengths"], ["enc_out", "enc_h"],
                  {"src": bt, "src_lengths": b, "enc_out": bt,
                   "enc_h": state_ax}))
    m = build(Seq2SeqDecoderStep, 4)
    specs.append(("seq2seq_decoder_step", m,
                  lambda g: sets_decoder(g, enc),
                  ["token", "hidden", "enc_out", "src_mask"],
                  ["logprobs", "hidden_out", "attn"],
                  {"token": b, "hidden": state_ax,
                   "enc_out": {0: "batch", 1: "src_seq"},
                   "src_mask": {0: "batch", 1: "src_seq"},
                   "logprobs": b, "hidden_out": state_ax,
                   "attn": {0: "batch", 1: "src_seq"}}))
    m = build(TransformerLayer, 5)
    specs.append(("transformer_layer", m, sets_transformer,
                  ["x", "src_key_padding_mask"], ["y"],
                  {"x": bt, "src_key_padding_mask": bt, "y": bt}))
    speech = build(SpeechModel, 6)
    speech_ax = {"feats": {0: "batch", 1: "frames"}, "h0": state_ax,
                 "c0": state_ax, "probs": {0: "batch", 1: "out_frames"},
                 "hn": state_ax, "cn": state_ax}
    specs.append(("speech", speech, sets_speech, ["feats", "h0", "c0"],
                  ["probs", "hn", "cn"], speech_ax))
    charlm = build(CharLmStep, 7)
    lm_ax = {"tokens": bt, "h0": state_ax, "c0": state_ax,
             "logprobs": bt, "hn": state_ax, "cn": state_ax}
    specs.append(("charlm_step", charlm, sets_charlm, ["tokens", "h0", "c0"],
                  ["logprobs", "hn", "cn"], lm_ax))

    protos = {}
    for seed, (name, module, sets_fn, ins, outs, dyn) in enumerate(specs):
        g = torch.Generator().manual_seed(1000 + seed)
        sets = sets_fn(g)
        model = export(module, sets[-1], ins, outs, dyn)
        onnx.checker.check_model(model)
        onnx.save(model, os.path.join(out, name + ".onnx"))
        write_sets(out, name, module, sets, ins, outs)
        protos[name] = model
        print("wrote", name)

    # Loader variants.  External data: every initializer in one file next
    # to the model (the same model and expected outputs as charlm_step).
    ext = onnx.ModelProto()
    ext.CopyFrom(protos["charlm_step"])
    path = os.path.join(out, "charlm_step_extdata.onnx")
    onnx.save_model(ext, path, save_as_external_data=True,
                    all_tensors_to_one_file=True,
                    location="charlm_step_extdata.onnx.data",
                    size_threshold=0)
    shutil.rmtree(os.path.join(out, "charlm_step_extdata"), True)
    shutil.copytree(os.path.join(out, "charlm_step"),
                    os.path.join(out, "charlm_step_extdata"))
    print("wrote charlm_step_extdata")

    # float16 initializers: the speech model with weights rounded to half;
    # PyTorch's expected outputs use the same rounded weights.
    half = fp16_initializers(protos["speech"])
    onnx.checker.check_model(half)
    onnx.save(half, os.path.join(out, "speech_fp16.onnx"))
    with torch.no_grad():
        for p in speech.parameters():
            p.copy_(p.half().float())
    g = torch.Generator().manual_seed(1000 + 5)
    write_sets(out, "speech_fp16", speech, sets_speech(g),
               ["feats", "h0", "c0"], ["probs", "hn", "cn"])
    print("wrote speech_fp16")


if __name__ == "__main__":
    main()
