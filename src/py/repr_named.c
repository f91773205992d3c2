/* Objects printed by name: classes, modules, functions, code objects,
 * methods, builtin functions, cells, 2.7 classic classes and instances,
 * and everything else as object.__repr__ prints it.
 *
 *   3.x class     <class 'mod.Qual'>, <class 'int'> for builtins
 *   2.7 type      <type 'int'>, <class 'mod.Name'> for heap types
 *   object        <mod.Qual object at 0x...>, <tp_name object at 0x...>
 *                 when the module is builtins or unknown
 *   function      <function Qual at 0x...> (2.7: __name__)
 *   code          <code object name at 0x..., file "f", line N>
 *   method        <bound method Qual of <self repr>> (2.7: Class.name)
 *   builtin       <built-in function len>,
 *                 <built-in method append of list object at 0x...>
 *   module        see repr_module()
 *   2.7 classic   <class mod.Name at 0x...>, <mod.Name instance at 0x...>
 */
#include "py/repr.h"

#include <inttypes.h>
#include <string.h>

/* The UTF-8 text of a str object, or NULL. */
static const char *text_of(struct py_objects *o, uint64_t str)
{
	const char *s;

	if (!str || py_reader_str(o->r, str, &s, &o->scratch))
		return NULL;
	return s;
}

static const char *text_field(struct py_objects *o, uint64_t obj,
			      int32_t off)
{
	uint64_t str;

	if (off == OFF_NONE || obj_read_ptr(o, obj + (uint64_t)off, &str))
		return NULL;
	return text_of(o, str);
}

/* A str that is a str: repr's %U arguments must be. */
static bool is_str(struct py_objects *o, uint64_t obj)
{
	const struct py_type *t;

	return obj && !py_type_of(o, obj, &t, &o->scratch) &&
	       (is_py2(o) ? t->kind == PY_K_BYTES : t->kind == PY_K_STR);
}

int repr_other(struct py_objects *o, uint64_t obj, struct py_type *t,
	       struct strbuf *sb)
{
	const char *mod = py_type_module(o, t);

	if (o->prefetch)
		return 0;
	if (mod && strcmp(mod, builtins_name(o)))
		strbuf_addf(sb, "<%s.%s object at 0x%" PRIx64 ">", mod,
			    t->qualname, obj);
	else
		strbuf_addf(sb, "<%s object at 0x%" PRIx64 ">", t->name, obj);
	return 0;
}

int repr_type(struct py_objects *o, uint64_t obj, const struct py_type *t,
	      struct strbuf *sb)
{
	const struct py_type *ct;
	struct py_type *c;
	const char *mod;
	int rc = py_type_get(o, obj, &ct, &o->scratch);

	(void)t;
	if (rc)
		return rc;
	c = (struct py_type *)ct;
	mod = py_type_module(o, c);
	if (o->prefetch)
		return 0;
	if (is_py2(o)) {
		const char *kind = c->heap ? "class" : "type";

		if (mod && strcmp(mod, builtins_name(o)))
			strbuf_addf(sb, "<%s '%s.%s'>", kind, mod, c->qualname);
		else
			strbuf_addf(sb, "<%s '%s'>", kind, c->name);
	} else if (mod && strcmp(mod, builtins_name(o))) {
		strbuf_addf(sb, "<class '%s.%s'>", mod, c->qualname);
	} else {
		strbuf_addf(sb, "<class '%s'>", c->name);
	}
	return 0;
}

int repr_function(struct py_objects *o, uint64_t obj, const struct py_type *t,
		  struct strbuf *sb)
{
	const char *name = text_field(o, obj, o->l->func_qualname != OFF_NONE ?
				      o->l->func_qualname : o->l->func_name);

	(void)t;
	if (!name)
		return SS_ECORRUPT;
	strbuf_addf(sb, "<function %s at 0x%" PRIx64 ">", name, obj);
	return 0;
}

int repr_code(struct py_objects *o, uint64_t obj, const struct py_type *t,
	      struct strbuf *sb)
{
	const struct py_layout *l = o->l;
	uint64_t fname = 0;
	const char *name = text_field(o, obj, l->code_co_name);
	const char *file = NULL;
	int32_t line = 0;

	(void)t;
	if (obj_read(o, obj + (uint64_t)l->code_co_firstlineno, &line,
		     sizeof(line)))
		return SS_EFAULT;
	if (!obj_read_ptr(o, obj + (uint64_t)l->code_co_filename, &fname) &&
	    is_str(o, fname))
		file = text_of(o, fname);
	if (!name && !is_py2(o))
		return SS_ECORRUPT;
	if (is_py2(o))
		strbuf_addf(sb, "<code object %.100s at 0x%" PRIx64
			    ", file \"%.300s\", line %d>", name ? name : "???",
			    obj, file ? file : "???", line ? line : -1);
	else if (file)
		strbuf_addf(sb, "<code object %s at 0x%" PRIx64 ", file \"%s\", "
			    "line %d>", name, obj, file, line ? line : -1);
	else
		strbuf_addf(sb, "<code object %s at 0x%" PRIx64 ", file ???, "
			    "line %d>", name, obj, line ? line : -1);
	return 0;
}

int repr_cell(struct py_objects *o, uint64_t obj, const struct py_type *t,
	      struct strbuf *sb)
{
	uint64_t ref;
	const struct py_type *rt;

	(void)t;
	if (o->l->cell_ob_ref == OFF_NONE ||
	    obj_read_ptr(o, obj + (uint64_t)o->l->cell_ob_ref, &ref))
		return SS_EFAULT;
	if (!ref)
		strbuf_addf(sb, "<cell at 0x%" PRIx64 ": empty>", obj);
	else if (!py_type_of(o, ref, &rt, &o->scratch))
		strbuf_addf(sb, "<cell at 0x%" PRIx64 ": %.80s object at 0x%"
			    PRIx64 ">", obj, rt->name, ref);
	else
		return SS_ECORRUPT;
	return 0;
}

/* __qualname__ (3.x) or __name__ of a function-like object, or NULL. */
static const char *callable_name(struct py_objects *o, uint64_t func,
				 bool qualified)
{
	const struct py_type *ft;
	const struct py_layout *l = o->l;

	if (py_type_of(o, func, &ft, &o->scratch))
		return NULL;
	if (ft->kind == PY_K_FUNCTION)
		return text_field(o, func, qualified &&
				  l->func_qualname != OFF_NONE ?
				  l->func_qualname : l->func_name);
	return NULL;
}

/* __name__ of a 2.7 class (new-style or classic). */
static const char *class_name2(struct py_objects *o, uint64_t cls)
{
	const struct py_type *ct, *mt;

	if (py_type_of(o, cls, &mt, &o->scratch))
		return NULL;
	if (mt->kind == PY_K_CLASSOBJ)
		return text_field(o, cls, o->l->classobj_cl_name);
	if (mt->kind == PY_K_TYPE && !py_type_get(o, cls, &ct, &o->scratch))
		return ct->qualname;
	return NULL;
}

int repr_method(struct py_objects *o, uint64_t obj, const struct py_type *t,
		struct strbuf *sb)
{
	const struct py_layout *l = o->l;
	uint64_t func, self, cls = 0;
	const char *fname;

	(void)t;
	if (l->method_im_func == OFF_NONE || l->method_im_self == OFF_NONE ||
	    obj_read_ptr(o, obj + (uint64_t)l->method_im_func, &func) ||
	    obj_read_ptr(o, obj + (uint64_t)l->method_im_self, &self))
		return SS_EFAULT;
	if (is_py2(o)) {
		const char *cname = NULL;

		if (l->method_im_class != OFF_NONE &&
		    !obj_read_ptr(o, obj + (uint64_t)l->method_im_class, &cls) &&
		    cls)
			cname = class_name2(o, cls);
		fname = callable_name(o, func, false);
		if (!self) {
			strbuf_addf(sb, "<unbound method %s.%s>",
				    cname ? cname : "?", fname ? fname : "?");
			return 0;
		}
		strbuf_addf(sb, "<bound method %s.%s of ", cname ? cname : "?",
			    fname ? fname : "?");
	} else {
		fname = callable_name(o, func, true);
		strbuf_addf(sb, "<bound method %s of ", fname ? fname : "?");
	}
	repr_element(o, self, sb);
	strbuf_addch(sb, '>');
	return 0;
}

int repr_cfunction(struct py_objects *o, uint64_t obj,
		   const struct py_type *t, struct strbuf *sb)
{
	const struct py_layout *l = o->l;
	uint64_t ml, name_ptr, self;
	char name[PY_CSTR_MAX];
	const struct py_type *st;

	(void)t;
	if (l->cfunc_m_ml == OFF_NONE || l->cfunc_m_self == OFF_NONE ||
	    obj_read_ptr(o, obj + (uint64_t)l->cfunc_m_ml, &ml) ||
	    obj_read_ptr(o, obj + (uint64_t)l->cfunc_m_self, &self) ||
	    obj_read_ptr(o, ml + (uint64_t)l->methoddef_ml_name, &name_ptr) ||
	    obj_read_cstr(o, name_ptr, name, sizeof(name)))
		return SS_EFAULT;
	if (!self) {
		strbuf_addf(sb, "<built-in function %s>", name);
		return 0;
	}
	if (py_type_of(o, self, &st, &o->scratch))
		return SS_ECORRUPT;
	/* 3.x treats a module as self like none (module functions). */
	if (!is_py2(o) && st->kind == PY_K_MODULE)
		strbuf_addf(sb, "<built-in function %s>", name);
	else
		strbuf_addf(sb, "<built-in method %s of %s object at 0x%" PRIx64
			    ">", name, st->name, self);
	return 0;
}

/* module and name of a 2.7 classic class: (__module__, cl_name). */
static void classic_names(struct py_objects *o, uint64_t cls,
			  const char **mod, const char **name)
{
	uint64_t dict = 0, m = 0;

	*mod = NULL;
	*name = text_field(o, cls, o->l->classobj_cl_name);
	if (o->l->classobj_cl_dict != OFF_NONE &&
	    !obj_read_ptr(o, cls + (uint64_t)o->l->classobj_cl_dict, &dict) &&
	    dict && !py_dict_get_str(o, dict, "__module__", &m, &o->scratch) &&
	    is_str(o, m))
		*mod = text_of(o, m);
}

int repr_classobj(struct py_objects *o, uint64_t obj, const struct py_type *t,
		  struct strbuf *sb)
{
	const char *mod, *name;

	(void)t;
	classic_names(o, obj, &mod, &name);
	strbuf_addf(sb, "<class %s.%s at 0x%" PRIx64 ">", mod ? mod : "?",
		    name ? name : "?", obj);
	return 0;
}

int repr_instance(struct py_objects *o, uint64_t obj, const struct py_type *t,
		  struct strbuf *sb)
{
	uint64_t cls;
	const char *mod, *name;

	(void)t;
	if (o->l->instance_in_class == OFF_NONE ||
	    obj_read_ptr(o, obj + (uint64_t)o->l->instance_in_class, &cls))
		return SS_EFAULT;
	classic_names(o, cls, &mod, &name);
	strbuf_addf(sb, "<%s.%s instance at 0x%" PRIx64 ">", mod ? mod : "?",
		    name ? name : "?", obj);
	return 0;
}
