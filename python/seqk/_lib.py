"""ctypes view of libseqk: the structs and prototypes of include/seqk.h.

The library is the libseqk.so that `pip install .` puts next to this file;
$SEQK_LIBRARY names another one (the development route:
SEQK_LIBRARY=build/src/libseqk.so PYTHONPATH=python).  ctypes.CDLL
releases the GIL for the duration of every foreign call, so other Python
threads run while a seqk op does.

Binding a new C function is one line in _PROTOTYPES; a function a build
may lack goes in _OPTIONAL (lib.<name> is then None when it is absent).
"""
import ctypes
import ctypes.util
import os
import sys
from ctypes import (POINTER, Structure, c_char, c_char_p, c_float, c_int,
                    c_int64, c_size_t, c_void_p)

# Opaque handles.
ctx_p = c_void_p
tensor_p = c_void_p
rnn_p = c_void_p
status = c_int


class Options(Structure):
    _fields_ = [("struct_size", c_size_t), ("device", c_char_p),
                ("threads", c_int), ("tuning_db", c_char_p)]


class DeviceInfo(Structure):
    _fields_ = [("struct_size", c_size_t), ("spec", c_char * 32),
                ("name", c_char * 128), ("kind", c_int),
                ("available", c_int), ("why_unavailable", c_char * 160)]


class DeviceFacts(Structure):
    _fields_ = [("struct_size", c_size_t), ("present", c_int),
                ("name", c_char * 128), ("vendor", c_char * 128),
                ("driver_version", c_char * 64), ("version", c_char * 256),
                ("compute_units", ctypes.c_uint),
                ("max_work_group_size", c_size_t),
                ("local_mem_size", ctypes.c_uint64),
                ("global_mem_size", ctypes.c_uint64), ("fp16", c_int)]


class GemmParams(Structure):
    _fields_ = [("struct_size", c_size_t), ("trans_a", c_int),
                ("trans_b", c_int), ("alpha", c_float), ("beta", c_float)]


class Activation(Structure):
    _fields_ = [("kind", c_int), ("alpha", c_float), ("beta", c_float)]


RNN_MAX_ACTIVATIONS = 6
# weight_dtype of the plan descs: "f32" or "bf16" (SEQK_F32, SEQK_BF16)
WEIGHT_DTYPES = {"f32": 1, "bf16": 5}


class RnnDesc(Structure):
    _fields_ = [("struct_size", c_size_t), ("cell", c_int),
                ("input_size", c_int64), ("hidden_size", c_int64),
                ("direction", c_int), ("layout", c_int),
                ("num_layers", c_int), ("num_activations", c_int),
                ("activations", Activation * RNN_MAX_ACTIVATIONS),
                ("clip", c_float), ("input_forget", c_int),
                ("linear_before_reset", c_int), ("weight_dtype", c_int)]


class AttentionParams(Structure):
    _fields_ = [("struct_size", c_size_t), ("q_num_heads", c_int64),
                ("kv_num_heads", c_int64), ("scale", c_float),
                ("softcap", c_float), ("is_causal", c_int),
                ("causal_align", c_int)]


class SeqAttentionParams(Structure):
    _fields_ = [("struct_size", c_size_t), ("score", c_int)]


class SeqAttentionInputs(Structure):
    _fields_ = [(name, tensor_p) for name in
                ("query", "keys", "values", "key_lens", "W", "W1", "W2",
                 "v", "Wloc")]


class ArgmaxParams(Structure):
    _fields_ = [("struct_size", c_size_t), ("axis", c_int64),
                ("keepdims", c_int), ("select_last_index", c_int)]


class TopkParams(Structure):
    _fields_ = [("struct_size", c_size_t), ("k", c_int64), ("axis", c_int64),
                ("largest", c_int), ("sorted", c_int)]


class ElementwiseParams(Structure):
    _fields_ = [("struct_size", c_size_t), ("op", c_int), ("alpha", c_float),
                ("beta", c_float)]


class LinearDesc(Structure):
    _fields_ = [("struct_size", c_size_t), ("in_features", c_int64),
                ("out_features", c_int64), ("weight_layout", c_int),
                ("weight_dtype", c_int)]


MAX_DIMS = 8  # SEQK_MAX_DIMS


class ModelOptions(Structure):
    _fields_ = [("struct_size", c_size_t), ("context", ctx_p),
                ("device", c_char_p), ("threads", c_int),
                ("n_outputs", c_int), ("outputs", POINTER(c_char_p)),
                ("base_dir", c_char_p)]


class ModelIO(Structure):
    _fields_ = [("struct_size", c_size_t), ("name", c_char_p),
                ("dtype", c_int), ("ndim", c_int),
                ("dims", c_int64 * MAX_DIMS),
                ("dim_names", c_char_p * MAX_DIMS)]


dims_p = POINTER(c_int64)

# name: (restype, argtypes)
_PROTOTYPES = {
    "seqk_status_string": (c_char_p, [c_int]),
    "seqk_last_error": (c_char_p, [ctx_p]),
    "seqk_version_string": (c_char_p, []),
    "seqk_options_init": (None, [POINTER(Options)]),
    "seqk_context_create": (status, [POINTER(Options), POINTER(ctx_p)]),
    "seqk_context_destroy": (status, [ctx_p]),
    "seqk_context_device": (c_char_p, [ctx_p]),
    "seqk_context_threads": (c_int, [ctx_p]),
    "seqk_context_synchronize": (status, [ctx_p]),
    "seqk_context_device_facts": (status, [ctx_p, POINTER(DeviceFacts)]),
    "seqk_device_count": (status, [POINTER(c_int)]),
    "seqk_device_info_get": (status, [c_int, POINTER(DeviceInfo)]),
    "seqk_cpu_features": (c_char_p, []),
    "seqk_dtype_size": (c_size_t, [c_int]),
    "seqk_tensor_create": (status, [ctx_p, c_int, dims_p, c_int,
                                    POINTER(tensor_p)]),
    "seqk_tensor_destroy": (status, [tensor_p]),
    "seqk_tensor_write": (status, [tensor_p, c_void_p, c_size_t]),
    "seqk_tensor_read": (status, [tensor_p, c_void_p, c_size_t]),
    "seqk_tensor_ndim": (c_int, [tensor_p]),
    "seqk_tensor_dim": (c_int64, [tensor_p, c_int]),
    "seqk_tensor_dtype": (c_int, [tensor_p]),
    "seqk_tensor_bytes": (c_size_t, [tensor_p]),
    "seqk_gemm_params_init": (None, [POINTER(GemmParams)]),
    "seqk_gemm": (status, [ctx_p, POINTER(GemmParams), tensor_p, tensor_p,
                           tensor_p, tensor_p]),
    "seqk_matmul": (status, [ctx_p, tensor_p, tensor_p, tensor_p]),
    "seqk_softmax": (status, [ctx_p, c_int64, tensor_p, tensor_p]),
    "seqk_act_from_name": (c_int, [c_char_p]),
    "seqk_activation_default": (Activation, [c_int]),
    "seqk_rnn_desc_init": (None, [POINTER(RnnDesc), c_int, c_int64, c_int64]),
    "seqk_rnn_create": (status, [ctx_p, POINTER(RnnDesc), POINTER(rnn_p)]),
    "seqk_rnn_destroy": (status, [rnn_p]),
    "seqk_rnn_set_weights": (status, [rnn_p, c_int, c_int, tensor_p,
                                      tensor_p, tensor_p, tensor_p]),
    "seqk_rnn_forward": (status, [rnn_p, tensor_p, tensor_p, tensor_p,
                                  tensor_p, tensor_p, tensor_p, tensor_p]),
    "seqk_attention_params_init": (None, [POINTER(AttentionParams)]),
    "seqk_attention": (status, [ctx_p, POINTER(AttentionParams), tensor_p,
                                tensor_p, tensor_p, tensor_p, tensor_p]),
    "seqk_score_from_name": (c_int, [c_char_p]),
    "seqk_seq_attention_params_init": (None, [POINTER(SeqAttentionParams)]),
    "seqk_seq_attention": (status, [ctx_p, POINTER(SeqAttentionParams),
                                    POINTER(SeqAttentionInputs), tensor_p,
                                    tensor_p]),
}

# Functions newer than some builds of the library.
_OPTIONAL = {
    "seqk_tensor_reshape_view": (status, [tensor_p, c_int, dims_p,
                                          POINTER(tensor_p)]),
    "seqk_tensor_slice_view": (status, [tensor_p, c_int, c_int64, c_int64,
                                        POINTER(tensor_p)]),
    "seqk_gather": (status, [ctx_p, c_int64, tensor_p, tensor_p, tensor_p]),
    "seqk_argmax_params_init": (None, [POINTER(ArgmaxParams)]),
    "seqk_argmax": (status, [ctx_p, POINTER(ArgmaxParams), tensor_p,
                             tensor_p]),
    "seqk_topk_params_init": (None, [POINTER(TopkParams), c_int64]),
    "seqk_topk": (status, [ctx_p, POINTER(TopkParams), tensor_p, tensor_p,
                           tensor_p]),
    "seqk_elementwise_params_init": (None, [POINTER(ElementwiseParams),
                                            c_int]),
    "seqk_elementwise_from_name": (c_int, [c_char_p]),
    "seqk_elementwise_arity": (c_int, [c_int]),
    "seqk_elementwise": (status, [ctx_p, POINTER(ElementwiseParams),
                                  tensor_p, tensor_p, tensor_p]),
    "seqk_concat": (status, [ctx_p, c_int64, c_int, POINTER(tensor_p),
                             tensor_p]),
    "seqk_seq_attention_keys_create": (status, [
        ctx_p, POINTER(SeqAttentionParams), POINTER(SeqAttentionInputs),
        POINTER(c_void_p)]),
    "seqk_seq_attention_keys_destroy": (status, [c_void_p]),
    "seqk_seq_attention_keyed": (status, [ctx_p, c_void_p, tensor_p,
                                          tensor_p, tensor_p]),
    "seqk_linear_desc_init": (None, [POINTER(LinearDesc), c_int64,
                                     c_int64]),
    "seqk_linear_create": (status, [ctx_p, POINTER(LinearDesc), tensor_p,
                                    tensor_p, POINTER(c_void_p)]),
    "seqk_linear_destroy": (status, [c_void_p]),
    "seqk_linear_forward": (status, [c_void_p, tensor_p, tensor_p]),
    "seqk_tensor_wrap": (status, [ctx_p, c_int, dims_p, c_int, c_void_p,
                                  c_size_t, POINTER(tensor_p)]),
    # models (seqk.Model)
    "seqk_model_options_init": (None, [POINTER(ModelOptions)]),
    "seqk_model_load": (status, [c_char_p, POINTER(ModelOptions),
                                 POINTER(c_void_p)]),
    "seqk_model_load_bytes": (status, [c_void_p, c_size_t,
                                       POINTER(ModelOptions),
                                       POINTER(c_void_p)]),
    "seqk_model_destroy": (status, [c_void_p]),
    "seqk_model_context": (ctx_p, [c_void_p]),
    "seqk_model_input_count": (c_int, [c_void_p]),
    "seqk_model_output_count": (c_int, [c_void_p]),
    "seqk_model_input_info": (status, [c_void_p, c_int, POINTER(ModelIO)]),
    "seqk_model_output_info": (status, [c_void_p, c_int, POINTER(ModelIO)]),
    "seqk_model_run": (status, [c_void_p, c_int, POINTER(c_char_p),
                                POINTER(tensor_p), c_int, POINTER(c_char_p),
                                POINTER(tensor_p)]),
    "seqk_model_prepare": (status, [c_void_p, c_int, POINTER(c_char_p),
                                    POINTER(c_int), POINTER(dims_p)]),
    "seqk_model_describe": (c_size_t, [c_void_p, c_char_p, c_size_t]),
}


def _library_path():
    env = os.environ.get("SEQK_LIBRARY")
    if env:
        return env
    here = os.path.dirname(os.path.abspath(__file__))
    names = {"darwin": ["libseqk.dylib"], "win32": ["seqk.dll", "libseqk.dll"]}
    for name in names.get(sys.platform, ["libseqk.so"]):
        if os.path.exists(os.path.join(here, name)):
            return os.path.join(here, name)
    found = ctypes.util.find_library("seqk")
    if found:
        return found
    raise ImportError(
        "seqk: libseqk not found next to the package nor on the library "
        "path; install the package with `pip install .` or set "
        "SEQK_LIBRARY to a built libseqk.so")


class _Lib:
    def __init__(self, path):
        self.path = path
        self.dll = ctypes.CDLL(path)
        for table, required in ((_PROTOTYPES, True), (_OPTIONAL, False)):
            for name, (res, args) in table.items():
                fn = getattr(self.dll, name, None)
                if fn is None:
                    if required:
                        raise ImportError(f"seqk: {path} lacks {name}")
                    setattr(self, name, None)
                    continue
                fn.restype = res
                fn.argtypes = args
                setattr(self, name, fn)


lib = _Lib(_library_path())


def dims_array(shape):
    return (c_int64 * max(len(shape), 1))(*shape)
