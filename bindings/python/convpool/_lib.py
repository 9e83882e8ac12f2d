"""Finding, loading and describing libconvpool for ctypes.

The library is looked up, in this order:

1. the path in the CONVPOOL_LIBRARY environment variable;
2. the library directory baked in by ``meson install`` (``_build_config``);
3. the SONAME ``libconvpool.so.1`` through the dynamic loader's search path
   (a system-wide install, or LD_LIBRARY_PATH);
4. a build tree next to the source tree (``build*/lib``), so that the package
   works straight from a checkout after ``ninja -C build-xxx``.

Every function the package calls gets its ``argtypes`` and ``restype`` here:
a wrong guess by ctypes (int for a pointer or a size_t) would truncate values
silently on x86-64.
"""
import ctypes
import glob
import os

SONAME = "libconvpool.so.1"
MESSAGE_CAPACITY = 1024  # CONVPOOL_MESSAGE_CAPACITY

c_int32 = ctypes.c_int32
c_int64 = ctypes.c_int64
c_size_t = ctypes.c_size_t
c_void_p = ctypes.c_void_p
c_char_p = ctypes.c_char_p
p_int64 = ctypes.POINTER(c_int64)
p_int32 = ctypes.POINTER(c_int32)
p_size_t = ctypes.POINTER(c_size_t)
pp_void = ctypes.POINTER(c_void_p)
pp_int64 = ctypes.POINTER(p_int64)

# name: (restype, argtypes). Data pointers are c_void_p so that the NumPy
# buffer address goes in as a plain integer: no ctypes array, no copy.
_OP_API = {
    "convpool_version": (c_char_p, []),
    "convpool_version_number": (c_int32, []),
    "convpool_status_string": (c_char_p, [c_int32]),
    "convpool_last_error": (c_char_p, []),
    "convpool_desc_create": (c_int32, [c_int32, c_int32, pp_void]),
    "convpool_desc_destroy": (None, [c_void_p]),
    "convpool_desc_set_ints": (c_int32, [c_void_p, c_int32, p_int64, c_size_t]),
    "convpool_desc_set_int": (c_int32, [c_void_p, c_int32, c_int64]),
    "convpool_conv_create": (c_int32, [c_void_p, p_int64, c_size_t, c_void_p, c_void_p,
                                       pp_void]),
    "convpool_pool_create": (c_int32, [c_void_p, pp_void]),
    "convpool_op_destroy": (None, [c_void_p]),
    "convpool_op_kind_of": (c_int32, [c_void_p]),
    "convpool_op_output_shape": (c_int32, [c_void_p, p_int64, c_size_t, p_int64, c_size_t]),
    "convpool_op_run_ex": (c_int32, [c_void_p, c_void_p, p_int64, c_size_t, c_void_p,
                                     c_void_p, c_size_t, c_void_p, c_void_p, c_size_t]),
    "convpool_op_run_msg": (c_int32, [c_void_p, c_void_p, p_int64, c_size_t, c_void_p,
                                      c_void_p, c_size_t, c_void_p, c_void_p, c_size_t,
                                      c_char_p, c_size_t]),
    "convpool_context_create": (c_int32, [c_int32, pp_void]),
    "convpool_context_destroy": (None, [c_void_p]),
    "convpool_context_num_threads": (c_int32, [c_void_p]),
    "convpool_isa_active": (c_int32, []),
    "convpool_isa_name": (c_char_p, [c_int32]),
}

# The model/session API: a library built without the ONNX loader may lack it,
# so these are optional and Model reports their absence when used.
_MODEL_API = {
    "convpool_model_load_file": (c_int32, [c_char_p, c_size_t, pp_void]),
    "convpool_model_load_memory": (c_int32, [c_void_p, c_size_t, c_size_t, pp_void]),
    "convpool_model_load_file_msg": (c_int32, [c_char_p, c_size_t, pp_void, c_char_p,
                                               c_size_t]),
    "convpool_model_load_memory_msg": (c_int32, [c_void_p, c_size_t, c_size_t, pp_void,
                                                 c_char_p, c_size_t]),
    "convpool_model_destroy": (None, [c_void_p]),
    "convpool_model_input_count": (c_size_t, [c_void_p]),
    "convpool_model_output_count": (c_size_t, [c_void_p]),
    "convpool_model_input_name": (c_char_p, [c_void_p, c_size_t]),
    "convpool_model_output_name": (c_char_p, [c_void_p, c_size_t]),
    "convpool_model_input_info": (c_int32, [c_void_p, c_size_t, p_int32, p_size_t, p_int64,
                                            c_size_t]),
    "convpool_model_output_info": (c_int32, [c_void_p, c_size_t, p_int32, p_size_t, p_int64,
                                             c_size_t]),
    "convpool_model_input_dim_name": (c_char_p, [c_void_p, c_size_t, c_size_t]),
    "convpool_model_output_dim_name": (c_char_p, [c_void_p, c_size_t, c_size_t]),
    "convpool_model_node_count": (c_size_t, [c_void_p]),
    "convpool_session_create": (c_int32, [c_void_p, pp_void]),
    "convpool_session_destroy": (None, [c_void_p]),
    "convpool_session_set_input": (c_int32, [c_void_p, c_size_t, c_int32, p_int64, c_size_t,
                                             c_void_p]),
    "convpool_session_run": (c_int32, [c_void_p, c_void_p]),
    "convpool_session_run_msg": (c_int32, [c_void_p, c_void_p, c_char_p, c_size_t]),
    "convpool_session_output": (c_int32, [c_void_p, c_size_t, p_int32, p_size_t, pp_int64,
                                          pp_void]),
}


# The training API (convpool.grad, the layers' backward()): optional, so that
# inference keeps working with a library built before it; using it without
# raises UnsupportedError naming the library.
_TRAIN_API = {
    "convpool_conv_create_ex": (c_int32, [c_void_p, p_int64, c_size_t, c_void_p, c_void_p,
                                          ctypes.c_uint32, pp_void]),
    "convpool_op_weight_shape": (c_int32, [c_void_p, p_int64, c_size_t, p_size_t]),
    "convpool_op_backward_data": (c_int32, [c_void_p, c_void_p, p_int64, c_size_t, c_void_p,
                                            c_void_p, c_void_p, c_size_t, c_void_p, c_size_t,
                                            c_void_p, c_size_t]),
    "convpool_op_backward_weights": (c_int32, [c_void_p, c_void_p, p_int64, c_size_t, c_void_p,
                                               c_void_p, c_size_t, c_void_p, c_size_t,
                                               c_void_p, c_size_t, c_void_p, c_size_t]),
    "convpool_op_backward_workspace_size": (c_int32, [c_void_p, c_void_p, p_int64, c_size_t,
                                                      c_int32, p_size_t]),
}


def _candidates():
    """(description, path-or-name) pairs in lookup order."""
    env = os.environ.get("CONVPOOL_LIBRARY")
    if env:
        yield "CONVPOOL_LIBRARY", env
        return  # an explicit choice must not silently fall back to another copy
    try:
        from . import _build_config  # written by meson install only
        yield "the install libdir", os.path.join(_build_config.LIBDIR, SONAME)
    except ImportError:
        pass
    yield "the dynamic loader", SONAME
    here = os.path.dirname(os.path.abspath(__file__))
    source_root = os.path.normpath(os.path.join(here, "..", "..", ".."))
    for lib in sorted(glob.glob(os.path.join(source_root, "build*", "lib", SONAME))):
        yield "the build tree", lib


def _open():
    tried = []
    for where, name in _candidates():
        try:
            return ctypes.CDLL(name), name
        except OSError as e:
            tried.append("%s (%s): %s" % (name, where, e))
    raise ImportError("convpool: cannot load libconvpool; tried:\n  " + "\n  ".join(tried) +
                      "\nInstall libconvpool, or set CONVPOOL_LIBRARY to the path of "
                      "libconvpool.so.1.")


def _declare(lib, table, required):
    missing = []
    for name, (restype, argtypes) in table.items():
        try:
            fn = getattr(lib, name)
        except AttributeError:
            missing.append(name)
            continue
        fn.restype = restype
        fn.argtypes = argtypes
    if missing and required:
        raise ImportError("convpool: %s lacks %s" % (lib._name, ", ".join(missing)))
    return not missing


lib = path = None
has_model_api = False
has_training_api = False


def load(expected_version):
    """Opens the library, checks that it is version `expected_version` (the
    package's), and declares every function the package uses."""
    global lib, path, has_model_api, has_training_api
    found, found_path = _open()
    try:
        version_fn = found.convpool_version
    except AttributeError:
        raise ImportError("convpool: %s is not libconvpool (no convpool_version)" % found_path)
    version_fn.restype = c_char_p
    version_fn.argtypes = []
    got = version_fn().decode()
    if got != expected_version:
        raise ImportError("convpool %s needs libconvpool %s, but %s is version %s" %
                          (expected_version, expected_version, found_path, got))
    _declare(found, _OP_API, required=True)
    has_model_api = _declare(found, _MODEL_API, required=False)
    has_training_api = _declare(found, _TRAIN_API, required=False)
    lib, path = found, found_path


def int64_array(values):
    """A ctypes int64 array holding `values` (shapes, attribute lists)."""
    values = [int(v) for v in values]
    return (c_int64 * max(len(values), 1))(*values)
