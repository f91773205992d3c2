/* A tiny extension that crashes on purpose, for `snakescope run` tests.
 * Built by tests/py/test_run.py for each interpreter with its own
 * headers (Python 2.7 and 3.x). */
#include <Python.h>
#include <stdlib.h>

/* Exported, not static: the crash report names them from .symtab. */
PyObject *crashext_null_deref(PyObject *self, PyObject *args);
PyObject *crashext_abort(PyObject *self, PyObject *args);
PyObject *crashext_div_zero(PyObject *self, PyObject *args);
PyObject *crashext_call(PyObject *self, PyObject *args);

volatile int crashext_zero;

PyObject *crashext_null_deref(PyObject *self, PyObject *args)
{
	volatile int *p = NULL;

	(void)self;
	(void)args;
	return PyLong_FromLong(*p);
}

PyObject *crashext_abort(PyObject *self, PyObject *args)
{
	(void)self;
	(void)args;
	abort();
	return NULL;
}

PyObject *crashext_div_zero(PyObject *self, PyObject *args)
{
	volatile int n = 42;

	(void)self;
	(void)args;
	return PyLong_FromLong(n / crashext_zero);
}

/* call(cb): call back into Python. */
PyObject *crashext_call(PyObject *self, PyObject *args)
{
	PyObject *cb;

	(void)self;
	if (!PyArg_ParseTuple(args, "O", &cb))
		return NULL;
	return PyObject_CallObject(cb, NULL);
}

static PyMethodDef methods[] = {
	{ "null_deref", crashext_null_deref, METH_NOARGS, NULL },
	{ "abort", crashext_abort, METH_NOARGS, NULL },
	{ "div_zero", crashext_div_zero, METH_NOARGS, NULL },
	{ "call", crashext_call, METH_VARARGS, NULL },
	{ NULL, NULL, 0, NULL },
};

#if PY_MAJOR_VERSION >= 3
static struct PyModuleDef module = {
	PyModuleDef_HEAD_INIT, "crashext", NULL, -1, methods,
	NULL, NULL, NULL, NULL,
};

PyMODINIT_FUNC PyInit_crashext(void)
{
	return PyModule_Create(&module);
}
#else
PyMODINIT_FUNC initcrashext(void)
{
	Py_InitModule("crashext", methods);
}
#endif
