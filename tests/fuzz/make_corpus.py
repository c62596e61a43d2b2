#!/usr/bin/env python3
"""Writes the seed corpus of tests/fuzz/ (small valid and edge inputs).
Run from anywhere: python3 tests/fuzz/make_corpus.py.  Plain Python (no
numpy): the .npy files are built byte by byte as numpy writes them."""
import json
import os
import struct

HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'corpus')


def put(target, name, data):
    if isinstance(data, str):
        data = data.encode()
    os.makedirs(os.path.join(HERE, target), exist_ok=True)
    with open(os.path.join(HERE, target, name), 'wb') as f:
        f.write(data)


def npy(descr, shape, data, major=1, fortran=False, pad_to=64):
    sh = '(' + ''.join('%d, ' % d for d in shape)[:-2] + (',)' if len(shape) == 1 else ')')
    hdr = "{'descr': '%s', 'fortran_order': %s, 'shape': %s, }" % (
        descr, 'True' if fortran else 'False', sh)
    pre = 6 + 2 + (2 if major == 1 else 4)
    total = pre + len(hdr) + 1
    hdr += ' ' * ((-total) % pad_to) + '\n'
    lenb = struct.pack('<H' if major == 1 else '<I', len(hdr))
    return b'\x93NUMPY' + bytes([major, 0]) + lenb + hdr.encode() + data


def corpus_npy():
    t = 'fuzz_npy'
    put(t, 'f32_2x3.npy', npy('<f4', (2, 3), struct.pack('<6f', *range(6))))
    put(t, 'f32_scalar.npy', npy('<f4', (), struct.pack('<f', 1.5)))
    put(t, 'f32_empty_0x4.npy', npy('<f4', (0, 4), b''))
    put(t, 'i32_vec.npy', npy('<i4', (3,), struct.pack('<3i', -1, 0, 7)))
    put(t, 'i64_2x2_v2.npy', npy('<i8', (2, 2), struct.pack('<4q', 1, 2, 3, 4), major=2))
    put(t, 'bool_v3.npy', npy('|b1', (4,), bytes([0, 1, 2, 255]), major=3))
    put(t, 'f32_8d.npy', npy('<f4', (1,) * 8, struct.pack('<f', 2.0)))
    put(t, 'f32_truncated.npy', npy('<f4', (4,), struct.pack('<3f', 1, 2, 3)))
    put(t, 'f64_unsupported.npy', npy('<f8', (1,), struct.pack('<d', 1.0)))
    put(t, 'fortran.npy', npy('<f4', (2, 2), struct.pack('<4f', 1, 2, 3, 4), fortran=True))
    put(t, 'huge_dims.npy', npy('<f4', (0, 2**62, 2**62), b''))
    put(t, 'bad_magic.npy', b'\x93NUMPX\x01\x00')


def entry(kernel, bucket, params, backend='avx2', verified=()):
    return {
        'backend': backend,
        'device': {'vendor': 'GenuineIntel', 'name': 'Test CPU', 'driver': '',
                   'platform': '', 'compute_units': 2, 'local_mem': 0,
                   'cpu_family': 6, 'cpu_model': 85, 'isa': 'avx2,fma',
                   'l1d': 32768, 'l2': 1048576, 'l3': 33554432},
        'kernel': kernel, 'source_hash': '0123456789abcdef', 'dtype': 'f32',
        'bucket': bucket, 'params': params,
        'median_ms': 1.0, 'min_ms': 0.9, 'default_ms': 2.0, 'speedup': 2.0,
        'tuner_version': '1', 'date': '2026-12-01T00:00:00Z',
        'verified': [{'driver': d, 'platform': p} for d, p in verified]}


def db(entries, version=1):
    return json.dumps({'format': 'seqk-tuning', 'version': version,
                       'entries': entries}, indent=1)


def corpus_tune_db():
    t = 'fuzz_tune_db'
    g = entry('cpu.gemm.blocking.avx2', [6, 6, 6], {'MC': 72, 'KC': 256, 'NC': 1024})
    r = entry('cpu.rnn.step', [7, 3], {'fuse': 1, 'threads': 2, 'granule': 1, 'xw_kb': 0})
    o = entry('opencl.gemm.direct', [8, 8, 7], {'WGD': 32, 'MDIMCD': 8},
              backend='opencl', verified=[('drv2', 'plat2')])
    put(t, 'empty.json', db([]))
    put(t, 'gemm.json', db([g]))
    put(t, 'three.json', db([g, r, o]))
    put(t, 'dup_key.json', db([g, dict(g, median_ms=0.5)]))
    put(t, 'version2.json', db([g], version=2))
    put(t, 'truncated.json', db([g, r])[:200])
    put(t, 'bad_hash.json', db([dict(g, source_hash='xyz')]))
    put(t, 'not_object.json', '[1, 2, 3]')
    put(t, 'deep.json', '[' * 40 + ']' * 40)


def corpus_bench():
    t = 'fuzz_bench_desc'
    for i, d in enumerate([
            'gemm:m=64,n=64,k=64', 'gemm:m=256,n=32,k=512,transb=1',
            'lstm:hidden=128,batch=4,seq=10', 'gru:hidden=64,batch=2,seq=3,input=32,dir=bi,layers=2,lbr=1',
            'rnn:hidden=16,batch=1,seq=2,act=relu', 'attention:batch=1,seq=8,heads=2,dim=16,kvseq=12,causal=1',
            'seqattn:batch=2,seq=8,dim=16,score=scaled_dot', 'softmax:rows=4,n=10,inner=3',
            'gemm:m=9223372036854775807,n=1,k=1', 'gemm:m=0', 'gemm', 'lstm:hidden=', 'nosuch:x=1',
            'gemm:m=1,m=2']):
        put(t, 'desc%02d.txt' % i, d)


def f32(shape, seed=1):
    n = 1
    for d in shape:
        n *= d
    vals = [((i * 7 + seed * 13) % 17 - 8) / 8.0 for i in range(n)]
    return npy('<f4', shape, struct.pack('<%df' % n, *vals))


def run_input(args, files):
    """fuzz_run's format: '\n'-joined args, "\0\0", files split by "\n%%\n"."""
    return '\n'.join(args).encode() + b'\0\0' + b'\n%%\n'.join(files)


def corpus_run():
    t = 'fuzz_run'
    rnn_in = lambda n: ['-i', 'X=@0', '-i', 'W=@1', '-i', 'R=@2'] + (
        ['-i', 'B=@3'] if n > 3 else [])
    H, I = 2, 3
    put(t, 'lstm.bin', run_input(
        ['LSTM'] + rnn_in(4) + ['-a', 'hidden_size=2', '-o', 'Y=y.npy',
                                '-o', 'Y_h=h.npy', '-o', 'Y_c=c.npy'],
        [f32((2, 1, I)), f32((1, 4 * H, I)), f32((1, 4 * H, H)),
         f32((1, 8 * H))]))
    put(t, 'gru_lbr.bin', run_input(
        ['GRU'] + rnn_in(3) + ['-a', 'hidden_size=2', '-a',
                               'linear_before_reset=1', '-o', 'Y_h=h.npy'],
        [f32((3, 2, I)), f32((1, 3 * H, I)), f32((1, 3 * H, H))]))
    put(t, 'rnn_bidi_lens.bin', run_input(
        ['RNN', '-i', 'X=@0', '-i', 'W=@1', '-i', 'R=@2',
         '-i', 'sequence_lens=@3', '-a', 'direction=bidirectional',
         '-a', 'activations=Relu,Tanh', '-o', 'Y=y.npy'],
        [f32((3, 2, I)), f32((2, H, I)), f32((2, H, H)),
         npy('<i8', (2,), struct.pack('<2q', 3, 1))]))
    put(t, 'gemm.bin', run_input(
        ['Gemm', '-i', 'A=@0', '-i', 'B=@1', '-i', 'C=@2', '-a', 'alpha=0.5',
         '-a', 'transB=1', '-o', 'Y=y.npy'],
        [f32((2, 3)), f32((4, 3)), f32((4,))]))
    put(t, 'matmul.bin', run_input(
        ['MatMul', '-i', 'A=@0', '-i', 'B=@1', '-o', 'Y=y.npy'],
        [f32((2, 2, 3)), f32((3, 5))]))
    put(t, 'softmax.bin', run_input(
        ['Softmax', '-i', 'input=@0', '-a', 'axis=-1', '-o', 'output=o.npy'],
        [f32((2, 5))]))
    put(t, 'attention.bin', run_input(
        ['Attention', '-i', 'Q=@0', '-i', 'K=@1', '-i', 'V=@2',
         '-i', 'attn_mask=@3', '-a', 'is_causal=0', '-o', 'Y=y.npy'],
        [f32((1, 2, 4, 8)), f32((1, 2, 3, 8)), f32((1, 2, 3, 8)),
         npy('|b1', (4, 3), bytes([1, 0, 1] * 4))]))
    put(t, 'attention_heads.bin', run_input(
        ['Attention', '-i', 'Q=@0', '-i', 'K=@1', '-i', 'V=@2',
         '-a', 'q_num_heads=4', '-a', 'kv_num_heads=2', '-a', 'is_causal=1',
         '-o', 'Y=y.npy'],
        [f32((1, 3, 16)), f32((1, 3, 8)), f32((1, 3, 8))]))
    put(t, 'seqattn_additive.bin', run_input(
        ['SeqAttention', '-i', 'query=@0', '-i', 'keys=@1',
         '-i', 'W1=@2', '-i', 'W2=@3', '-i', 'v=@4',
         '-i', 'key_lens=@5', '-a', 'score=additive',
         '-o', 'context=c.npy', '-o', 'weights=w.npy'],
        [f32((2, 3)), f32((2, 4, 5)), f32((6, 3)), f32((6, 5)), f32((6,)),
         npy('<i4', (2,), struct.pack('<2i', 4, 2))]))
    put(t, 'seqattn_general.bin', run_input(
        ['SeqAttention', '-i', 'query=@0', '-i', 'keys=@1', '-i', 'W=@2',
         '-a', 'score=general', '-o', 'context=c.npy'],
        [f32((1, 3)), f32((1, 2, 4)), f32((3, 4))]))
    # failures: a usage error, a bad file, a shape the library refuses
    put(t, 'bad_attr.bin', run_input(
        ['LSTM'] + rnn_in(3) + ['-a', 'hidden_size=x', '-o', 'Y=y.npy'],
        [f32((2, 1, I)), f32((1, 4 * H, I)), f32((1, 4 * H, H))]))
    put(t, 'bad_npy.bin', run_input(
        ['Softmax', '-i', 'input=@0', '-o', 'output=o.npy'], [b'\x93NUMPY']))
    put(t, 'bad_shape.bin', run_input(
        ['MatMul', '-i', 'A=@0', '-i', 'B=@1', '-o', 'Y=y.npy'],
        [f32((2, 3)), f32((4, 5))]))
    put(t, 'huge_zero_dims.bin', run_input(
        ['MatMul', '-i', 'A=@0', '-i', 'B=@1', '-o', 'Y=y.npy'],
        [npy('<f4', (2**31, 0), b''), npy('<f4', (0, 2**31), b'')]))
    put(t, 'help.bin', run_input(['--help'], []))


FUZZ_KEY = 0x5345514b46555a5a


def fnv(data):
    h = 14695981039346656037
    for b in data:
        h = ((h ^ b) * 1099511628211) & (2**64 - 1)
    return h


def cache_file(body, key=FUZZ_KEY, size=None, checksum=None, magic=b'SEQKCLB1'):
    return magic + struct.pack('<QQQ', key, len(body) if size is None else size,
                               fnv(body) if checksum is None else checksum) + body


def corpus_kernel_cache():
    t = 'fuzz_kernel_cache'
    body = bytes(range(256)) * 4
    put(t, 'valid.bin', cache_file(body))
    put(t, 'valid_1byte.bin', cache_file(b'\x7f'))
    put(t, 'other_key.bin', cache_file(body, key=FUZZ_KEY + 1))
    put(t, 'bad_checksum.bin', cache_file(body, checksum=1))
    put(t, 'size_too_big.bin', cache_file(body, size=2**63))
    put(t, 'size_too_small.bin', cache_file(body, size=3))
    put(t, 'empty_body.bin', cache_file(b''))
    put(t, 'bad_magic.bin', cache_file(body, magic=b'SEQKCLB0'))
    put(t, 'short.bin', b'SEQKCLB1\x00\x01')
    put(t, 'empty.bin', b'')


if __name__ == '__main__':
    corpus_npy()
    corpus_tune_db()
    corpus_bench()
    corpus_run()
    corpus_kernel_cache()
