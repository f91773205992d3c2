/* The C half of the dump --native test chain (tests/py/targets/native.py):
 *
 *   Python outer() -> ext_call(cb) -> ext_inner(cb) -> Python cb()
 *                  -> ext_block(fd): read(fd) with the GIL released
 *
 * Built by the test for each interpreter with its own headers (2.7 and
 * 3.6+).  Every function stays a real frame: noinline, and work after each
 * call so none becomes a tail call. */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <unistd.h>

#define KEEP __attribute__((noinline, used))

static volatile int after_calls;

KEEP PyObject *ext_inner(PyObject *cb)
{
	PyObject *r = PyObject_CallObject(cb, NULL);

	after_calls++;
	return r;
}

KEEP PyObject *ext_call(PyObject *self, PyObject *cb)
{
	PyObject *r;

	(void)self;
	r = ext_inner(cb);
	after_calls++;
	return r;
}

KEEP PyObject *ext_block(PyObject *self, PyObject *arg)
{
	long fd = PyLong_AsLong(arg);
	char c;
	ssize_t n;

	(void)self;
	if (fd == -1 && PyErr_Occurred())
		return NULL;
	Py_BEGIN_ALLOW_THREADS
	n = read((int)fd, &c, 1);
	Py_END_ALLOW_THREADS
	after_calls++;
	return PyLong_FromSsize_t(n);
}

static PyMethodDef methods[] = {
	{ "ext_call", ext_call, METH_O, "call cb() through ext_inner" },
	{ "ext_block", ext_block, METH_O, "read one byte of fd" },
	{ NULL, NULL, 0, NULL },
};

#if PY_MAJOR_VERSION >= 3
static struct PyModuleDef module = {
	PyModuleDef_HEAD_INIT, "ssnative", NULL, -1, methods,
	NULL, NULL, NULL, NULL,
};

PyMODINIT_FUNC PyInit_ssnative(void)
{
	return PyModule_Create(&module);
}
#else
PyMODINIT_FUNC initssnative(void)
{
	Py_InitModule("ssnative", methods);
}
#endif
