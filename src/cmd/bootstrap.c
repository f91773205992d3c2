/* The Python side of exec and pdb.  See bootstrap.h. */
#include "cmd/bootstrap.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/strbuf.h"

/* Runs as its own module ('__snakescope__'), so its names never touch
 * the target's.  Kept free of backslashes and quotes other than ' so that
 * it can be embedded as a literal without surprises. */
static const char boot_py[] =
"def _run(path, payload):\n"
"    import socket, struct, sys\n"
"    try:\n"
"        from _thread import get_ident\n"
"    except ImportError:\n"
"        from thread import get_ident\n"
/* Every socket call lets go of the GIL, and behind a busy thread taking it
 * back costs a switch interval (5 ms): shorten the interval while the
 * bootstrap's own calls run, never while the user's code does, and put it
 * back unless something else changed it meanwhile. */
"    setsw = getattr(sys, 'setswitchinterval', None)\n"
"    def quick():\n"
"        if setsw is None:\n"
"            return None\n"
"        old = sys.getswitchinterval()\n"
"        setsw(0.0001)\n"
"        return old, sys.getswitchinterval()\n"
"    def slow(prev):\n"
"        if prev is not None and sys.getswitchinterval() == prev[1]:\n"
"            setsw(prev[0])\n"
"    prev = quick()\n"
"    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)\n"
"    try:\n"
"        s.connect(path)\n"
"    except Exception:\n"
"        s.close()\n"
"        slow(prev)\n"
"        return\n"
/* Every blocking socket call lets go of the GIL and must queue for it
 * again behind busy threads: read the code in as few calls as possible
 * and send output in one piece at the end (or when it grows large). */
"    state = {'dead': False, 'out': []}\n"
"    def flush():\n"
"        data = b''.join(state['out'])\n"
"        state['out'] = []\n"
"        if data and not state['dead']:\n"
"            try:\n"
"                s.sendall(data)\n"
"            except Exception:\n"
"                state['dead'] = True\n"
"    def send(kind, data):\n"
"        if not isinstance(data, bytes):\n"
"            data = data.encode('utf-8', 'replace')\n"
"        state['out'].append(kind + struct.pack('>I', len(data)) + data)\n"
"        if len(state['out']) > 256 or len(data) > 65536:\n"
"            flush()\n"
"    buf = [b'']\n"
"    def recv_exact(n):\n"
"        while len(buf[0]) < n:\n"
"            chunk = s.recv(max(65536, n - len(buf[0])))\n"
"            if not chunk:\n"
"                raise EOFError()\n"
"            buf[0] += chunk\n"
"        out, buf[0] = buf[0][:n], buf[0][n:]\n"
"        return out\n"
"    def recv_msg():\n"
"        kind = recv_exact(1)\n"
"        n = struct.unpack('>I', recv_exact(4))[0]\n"
"        return kind, recv_exact(n)\n"
"    me = get_ident()\n"
"    class Out(object):\n"
"        def __init__(self, kind, orig):\n"
"            self._kind = kind\n"
"            self._orig = orig\n"
"        def write(self, data):\n"
"            if get_ident() != me:\n"
"                return self._orig.write(data)\n"
"            send(self._kind, data)\n"
"            return len(data)\n"
"        def writelines(self, lines):\n"
"            for line in lines:\n"
"                self.write(line)\n"
"        def flush(self):\n"
"            if get_ident() != me and self._orig is not None:\n"
"                self._orig.flush()\n"
"        def isatty(self):\n"
"            return False\n"
"        def __getattr__(self, name):\n"
"            return getattr(self._orig, name)\n"
"    if payload is None:\n"
"        try:\n"
"            kind, payload = recv_msg()\n"
"        except Exception:\n"
"            s.close()\n"
"            slow(prev)\n"
"            return\n"
"    slow(prev)\n"
"    fname, src = payload.split(b'\\0', 1)\n"
"    fname = fname.decode('utf-8')\n"
"    out, err = Out(b'o', sys.stdout), Out(b'e', sys.stderr)\n"
/* The shims put the thread's signal mask back by themselves (arch.h);
 * the interpreter's own remote debugging (PEP 768) does not. */
"    try:\n"
"        import _signal\n"
"        mask = _signal.pthread_sigmask(_signal.SIG_BLOCK, ())\n"
"    except Exception:\n"
"        mask = None\n"
"    old_out, old_err = sys.stdout, sys.stderr\n"
"    sys.stdout, sys.stderr = out, err\n"
"    try:\n"
"        try:\n"
"            import __main__\n"
"            code = compile(src, fname, 'exec')\n"
"            exec(code, __main__.__dict__)\n"
"        except BaseException:\n"
"            import traceback\n"
"            et, ev, tb = sys.exc_info()\n"
"            tb = tb.tb_next if tb is not None else None\n"
"            text = ''.join(traceback.format_exception(et, ev, tb))\n"
"            et = ev = tb = None\n"
"            send(b'x', text)\n"
"        else:\n"
"            send(b'd', b'')\n"
"    finally:\n"
"        if sys.stdout is out:\n"
"            sys.stdout = old_out\n"
"        if sys.stderr is err:\n"
"            sys.stderr = old_err\n"
"        if mask is not None:\n"
"            _signal.pthread_sigmask(_signal.SIG_SETMASK, mask)\n"
"        prev = quick()\n"
"        flush()\n"
"        s.close()\n"
"        slow(prev)\n";

void bootstrap_literal(struct strbuf *sb, const char *text)
{
	strbuf_addch(sb, '\'');
	for (const char *p = text; *p; p++) {
		if (*p == '\n')
			strbuf_addstr(sb, "\\n");
		else if (*p == '\\' || *p == '\'')
			strbuf_addch(sb, '\\'), strbuf_addch(sb, *p);
		else
			strbuf_addch(sb, *p);
	}
	strbuf_addch(sb, '\'');
}

char *bootstrap_source(const char *sock_path, const char *payload,
		       size_t len)
{
	struct strbuf body = STRBUF_INIT, sb = STRBUF_INIT;

	strbuf_addstr(&body, boot_py);
	strbuf_addstr(&body, "_run(");
	bootstrap_literal(&body, sock_path);
	if (payload) {
		/* hex: any bytes, one spelling for 2.7 and 3.x */
		strbuf_addstr(&body, ", __import__('binascii').unhexlify('");
		for (size_t i = 0; i < len; i++)
			strbuf_addf(&body, "%02x", (unsigned char)payload[i]);
		strbuf_addstr(&body, "'))\n");
	} else {
		strbuf_addstr(&body, ", None)\n");
	}
	strbuf_addstr(&sb, "try:\n    exec(compile(");
	bootstrap_literal(&sb, body.buf);
	strbuf_addstr(&sb, ", '<snakescope>', 'exec'), "
			   "{'__name__': '__snakescope__'})\n"
			   "except BaseException:\n    pass\n");
	strbuf_release(&body);
	return strbuf_detach(&sb);
}
