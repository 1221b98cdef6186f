/*
 * A C extension module that calls optkern through its C-API capsule
 * (docs/embedding.md#the-c-api-capsule). It links nothing: PyInit imports
 * optkern's table of functions, and every ok_* call below runs optkern's own
 * kernels, with the instruction set and thread count the optkern package has
 * set.
 *
 *     python setup.py build_ext --inplace
 *
 *     import numpy as np, capsule_ext
 *     capsule_ext.adam_step(param, grad, exp_avg, exp_avg_sq, step, lr)  # float32, in place
 *     loss = capsule_ext.cross_entropy(logits, target, grad)   # float32 (N, C), int64 (N,)
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <string.h>

#include "optkern/optkern_capi.h"

/* obj's buffer, C-contiguous, with items of `itemsize` bytes whose struct
 * format is one of `formats` ("f": float32; "lq": int64), writable if asked. */
static int get_array(PyObject *obj, Py_buffer *view, const char *formats, Py_ssize_t itemsize, int writable) {
    if (PyObject_GetBuffer(obj, view, PyBUF_C_CONTIGUOUS | PyBUF_FORMAT | (writable ? PyBUF_WRITABLE : 0)) < 0)
        return -1;
    if (view->itemsize != itemsize || strlen(view->format) != 1 || !strchr(formats, view->format[0])) {
        PyErr_Format(PyExc_TypeError, "expected an array of format '%s', got '%s'", formats, view->format);
        PyBuffer_Release(view);
        return -1;
    }
    return 0;
}

/* 0, or -1 with a ValueError saying what the status means. */
static int check(ok_status status) {
    if (status == OK_SUCCESS) return 0;
    PyErr_Format(PyExc_ValueError, "optkern: %s", ok_status_string(status));
    return -1;
}

/* adam_step(param, grad, exp_avg, exp_avg_sq, step, lr): one torch.optim.Adam
 * step of the float32 vector param, its states updated in place. */
static PyObject *adam_step(PyObject *self, PyObject *args) {
    PyObject *objs[4];
    long long step;
    double lr;
    Py_buffer views[4];
    int k, got = 0;
    ok_status status = OK_SUCCESS;
    (void)self;
    if (!PyArg_ParseTuple(args, "OOOOLd", &objs[0], &objs[1], &objs[2], &objs[3], &step, &lr)) return NULL;
    for (; got < 4; got++)
        if (get_array(objs[got], &views[got], "f", 4, got != 1) < 0) break;
    if (got == 4) {
        size_t numel = (size_t)views[0].len / 4;
        float *param = views[0].buf, *exp_avg = views[2].buf, *exp_avg_sq = views[3].buf;
        const float *grad = views[1].buf;
        ok_adam_hparams hp = OK_ADAM_DEFAULTS;
        hp.lr = lr;
        hp.step = step;
        if (views[1].len != views[0].len || views[2].len != views[0].len || views[3].len != views[0].len) {
            PyErr_SetString(PyExc_ValueError, "param, grad, exp_avg and exp_avg_sq must have one length");
        } else {
            Py_BEGIN_ALLOW_THREADS
            status = ok_adam_f32(&hp, 1, NULL, 1, &numel, &param, &grad, &exp_avg, &exp_avg_sq, NULL);
            Py_END_ALLOW_THREADS
        }
    }
    for (k = 0; k < got; k++) PyBuffer_Release(&views[k]);
    if (PyErr_Occurred() || check(status) < 0) return NULL;
    Py_RETURN_NONE;
}

/* cross_entropy(logits, target, grad): the mean cross-entropy of float32
 * logits (N, C) against int64 classes (N,), its gradient written to grad. */
static PyObject *cross_entropy(PyObject *self, PyObject *args) {
    PyObject *logits_obj, *target_obj, *grad_obj;
    Py_buffer logits, target, grad;
    float loss = 0.0f;
    ok_status status = OK_SUCCESS;
    (void)self;
    if (!PyArg_ParseTuple(args, "OOO", &logits_obj, &target_obj, &grad_obj)) return NULL;
    if (get_array(logits_obj, &logits, "f", 4, 0) < 0) return NULL;
    if (get_array(target_obj, &target, "lq", 8, 0) < 0) goto release_logits;
    if (get_array(grad_obj, &grad, "f", 4, 1) < 0) goto release_target;
    if (logits.ndim != 2 || target.ndim != 1 || target.shape[0] != logits.shape[0] || grad.len != logits.len) {
        PyErr_SetString(PyExc_ValueError, "logits must be (N, C), target (N,) and grad like logits");
    } else {
        size_t n = (size_t)logits.shape[0], c = (size_t)logits.shape[1];
        Py_BEGIN_ALLOW_THREADS
        status = ok_cross_entropy_f32(n, c, 1, logits.buf, target.buf, OK_INDEX_INT64, NULL, &loss, grad.buf);
        Py_END_ALLOW_THREADS
    }
    PyBuffer_Release(&grad);
release_target:
    PyBuffer_Release(&target);
release_logits:
    PyBuffer_Release(&logits);
    if (PyErr_Occurred() || check(status) < 0) return NULL;
    return PyFloat_FromDouble(loss);
}

/* isa(), num_threads(): what optkern's kernels run with, as seen from here. */
static PyObject *isa(PyObject *self, PyObject *unused) {
    (void)self, (void)unused;
    return PyUnicode_FromString(ok_isa_name(ok_get_isa()));
}

static PyObject *num_threads(PyObject *self, PyObject *unused) {
    (void)self, (void)unused;
    return PyLong_FromLong(ok_get_num_threads());
}

static PyMethodDef methods[] = {
    {"adam_step", adam_step, METH_VARARGS, "adam_step(param, grad, exp_avg, exp_avg_sq, step, lr)"},
    {"cross_entropy", cross_entropy, METH_VARARGS, "cross_entropy(logits, target, grad) -> mean loss"},
    {"isa", isa, METH_NOARGS, "the instruction set optkern's kernels run with"},
    {"num_threads", num_threads, METH_NOARGS, "the number of threads optkern's kernels use"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "capsule_ext", NULL, -1, methods, NULL, NULL, NULL, NULL};

PyMODINIT_FUNC PyInit_capsule_ext(void) {
    if (import_optkern() < 0) return NULL;
    return PyModule_Create(&module);
}
