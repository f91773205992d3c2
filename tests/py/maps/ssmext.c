/* The C extension of tests/py/test_maps.py: one source, several modules.
 *
 * The test builds it once per interpreter, with that interpreter's own
 * headers, and copies the .so to one file per module name (ssm_ok.so,
 * ssm_same.so, ...); each copy exports PyInit_<name> for every name, and
 * the import of <name> uses its own.  Each copy is a separate inode, so
 * the loader maps each one separately and each can be rewritten, replaced
 * or deleted on its own.
 *
 * ping() is reached the way any extension function is: through the
 * module's PyMethodDef table, whose ml_meth and ml_name pointers the
 * dynamic loader relocates.  Lose those relocations (rewrite the file in
 * place) and calling ping() jumps to a small link-time address: SIGSEGV. */
#include <Python.h>

static PyObject *ping(PyObject *self, PyObject *args)
{
	(void)self;
	(void)args;
	return Py_BuildValue("s", "pong");
}

#define PING_DOC "ping doc: answers pong"

#if PY_MAJOR_VERSION >= 3
#define MODULE(name)                                                        \
	static PyMethodDef name##_methods[] = {                             \
		{ "ping", ping, METH_NOARGS, PING_DOC },                    \
		{ NULL, NULL, 0, NULL },                                    \
	};                                                                  \
	static struct PyModuleDef name##_def = {                            \
		PyModuleDef_HEAD_INIT, #name, NULL, -1, name##_methods,     \
	};                                                                  \
	PyMODINIT_FUNC PyInit_##name(void);                                 \
	PyMODINIT_FUNC PyInit_##name(void)                                  \
	{                                                                   \
		return PyModule_Create(&name##_def);                        \
	}
#else
#define MODULE(name)                                                        \
	static PyMethodDef name##_methods[] = {                             \
		{ "ping", ping, METH_NOARGS, PING_DOC },                    \
		{ NULL, NULL, 0, NULL },                                    \
	};                                                                  \
	PyMODINIT_FUNC init##name(void);                                    \
	PyMODINIT_FUNC init##name(void)                                     \
	{                                                                   \
		Py_InitModule(#name, name##_methods);                       \
	}
#endif

MODULE(ssm_ok)
MODULE(ssm_same)
MODULE(ssm_inplace)
MODULE(ssm_truncdiff)
MODULE(ssm_replaced)
MODULE(ssm_deleted)
MODULE(ssm_pin)
MODULE(ssm_other)
MODULE(ssm_late)
