/* Module objects, printed as each version's ModuleType.__repr__ does.
 *
 * 2.7: <module 'name' from 'file'>, or <module 'name' (built-in)> without
 *   a __file__.
 * 3.x (importlib._bootstrap._module_repr): 3.6-3.11 first ask the
 *   loader's module_repr(), which BuiltinImporter and FrozenImporter (used
 *   as classes) answer with <module 'name' (built-in)> / (frozen); then a
 *   __spec__ decides (_module_repr_from_spec):
 *     origin None:  <module 'name'> or <module 'name' (<loader repr>)>
 *     has_location: <module 'name' from '<origin>'>
 *     otherwise:    <module 'name' (<origin>)>
 *   and without a spec: <module 'name' from '<__file__>'>, <module 'name'>
 *   or <module 'name' (<loader repr>)>.  Names and files are repr()s.
 */
#include "py/repr.h"

#include <string.h>

static uint64_t dict_item(struct py_objects *o, uint64_t dict,
			  const char *name)
{
	uint64_t v = 0;

	if (dict && py_dict_get_str(o, dict, name, &v, &o->scratch))
		return 0;
	return v;
}

static uint64_t attr(struct py_objects *o, uint64_t obj, const char *name)
{
	uint64_t v = 0;

	if (py_instance_attr(o, obj, name, &v, &o->scratch))
		return 0;
	return v;
}

static enum py_kind kind_of(struct py_objects *o, uint64_t obj)
{
	const struct py_type *t;

	if (!obj || py_type_of(o, obj, &t, &o->scratch))
		return PY_K_OTHER;
	return t->kind;
}

static bool is_text(struct py_objects *o, uint64_t obj)
{
	return kind_of(o, obj) == (is_py2(o) ? PY_K_BYTES : PY_K_STR);
}

/* "<module " + repr(name) or '?' */
static void open_module(struct py_objects *o, uint64_t name,
			struct strbuf *sb)
{
	strbuf_addstr(sb, "<module ");
	if (is_text(o, name))
		repr_element(o, name, sb);
	else
		strbuf_addstr(sb, "'?'");
}

/* The class name of a loader used as a class (BuiltinImporter). */
static const char *class_qualname(struct py_objects *o, uint64_t cls)
{
	const struct py_type *t;

	if (kind_of(o, cls) != PY_K_TYPE || py_type_get(o, cls, &t, &o->scratch))
		return NULL;
	return t->qualname;
}

static void from_spec(struct py_objects *o, uint64_t spec, struct strbuf *sb)
{
	uint64_t name = attr(o, spec, "name");
	uint64_t origin = attr(o, spec, "origin");
	uint64_t loader = attr(o, spec, "loader");
	uint64_t has_loc = attr(o, spec, "_set_fileattr");
	int64_t loc = 0;
	const char *text;

	open_module(o, name, sb);
	if (!origin || kind_of(o, origin) == PY_K_NONE) {
		if (loader && kind_of(o, loader) != PY_K_NONE) {
			strbuf_addstr(sb, " (");
			repr_element(o, loader, sb);
			strbuf_addch(sb, ')');
		}
	} else if (has_loc && !py_int_value(o, has_loc, &loc, &o->scratch) && loc) {
		strbuf_addstr(sb, " from ");
		repr_element(o, origin, sb);
	} else if (is_text(o, origin) &&
		   !py_reader_str(o->r, origin, &text, &o->scratch)) {
		strbuf_addf(sb, " (%s)", text);
	} else {
		strbuf_addstr(sb, " (");
		repr_element(o, origin, sb);
		strbuf_addch(sb, ')');
	}
	strbuf_addch(sb, '>');
}

static void module3(struct py_objects *o, uint64_t dict, struct strbuf *sb)
{
	uint64_t name = dict_item(o, dict, "__name__");
	uint64_t loader = dict_item(o, dict, "__loader__");
	uint64_t spec, file;

	if (py_minor(o) <= 11 && loader) {
		const char *cls = class_qualname(o, loader);

		if (cls && (!strcmp(cls, "BuiltinImporter") ||
			    !strcmp(cls, "FrozenImporter"))) {
			open_module(o, name, sb);
			strbuf_addstr(sb, cls[0] == 'B' ? " (built-in)>" :
					  " (frozen)>");
			return;
		}
	}
	spec = dict_item(o, dict, "__spec__");
	if (spec && kind_of(o, spec) != PY_K_NONE) {
		from_spec(o, spec, sb);
		return;
	}
	file = dict_item(o, dict, "__file__");
	open_module(o, name, sb);
	if (file) {
		strbuf_addstr(sb, " from ");
		repr_element(o, file, sb);
	} else if (loader && kind_of(o, loader) != PY_K_NONE) {
		strbuf_addstr(sb, " (");
		repr_element(o, loader, sb);
		strbuf_addch(sb, ')');
	}
	strbuf_addch(sb, '>');
}

static void module2(struct py_objects *o, uint64_t dict, struct strbuf *sb)
{
	uint64_t name = dict_item(o, dict, "__name__");
	uint64_t file = dict_item(o, dict, "__file__");
	const char *n = NULL, *f = NULL;

	if (is_text(o, name) && py_reader_str(o->r, name, &n, &o->scratch))
		n = NULL;
	if (is_text(o, file) && py_reader_str(o->r, file, &f, &o->scratch))
		f = NULL;
	if (f)
		strbuf_addf(sb, "<module '%s' from '%s'>", n ? n : "?", f);
	else
		strbuf_addf(sb, "<module '%s' (built-in)>", n ? n : "?");
}

int repr_module(struct py_objects *o, uint64_t obj, const struct py_type *t,
		struct strbuf *sb)
{
	uint64_t dict;

	(void)t;
	if (o->l->module_md_dict == OFF_NONE ||
	    obj_read_ptr(o, obj + (uint64_t)o->l->module_md_dict, &dict))
		return SS_EFAULT;
	if (dict && kind_of(o, dict) != PY_K_DICT)
		return SS_ECORRUPT;
	if (is_py2(o))
		module2(o, dict, sb);
	else
		module3(o, dict, sb);
	return 0;
}
