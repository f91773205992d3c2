# -*- coding: utf-8 -*-
"""Target of tests/py/test_maps.py (Python 2.7 and 3.6+).

    python target.py MODDIR NAME[,NAME...]

Imports the extension modules NAME... from MODDIR, says "ready" on the
inherited pipe $SSMAPS_REPLY_FD, then serves commands read from the pipe
$SSMAPS_CMD_FD, one per line, answering each on the reply pipe:
    call NAME   ->  "ok NAME <what NAME.ping() returned>"
    doc NAME    ->  "doc NAME <NAME.ping.__doc__>"
    import NAME ->  "imported NAME" (a module installed after the start)
End of file on the command pipe ends it.  Calling into an extension whose
relocations were lost crashes the process: the test sees it die of SIGSEGV
instead of answering.
"""
import os
import sys

moddir, names = sys.argv[1], sys.argv[2].split(",")
sys.path.insert(0, moddir)
mods = dict((n, __import__(n)) for n in names)
cmd = os.fdopen(int(os.environ["SSMAPS_CMD_FD"]), "rb")
reply = int(os.environ["SSMAPS_REPLY_FD"])


def say(text):
    os.write(reply, (text + "\n").encode("utf-8"))


say("ready %d" % os.getpid())
while True:
    line = cmd.readline()
    if not line:
        break
    verb, name = line.decode("ascii").split()
    if verb == "call":
        say("ok %s %s" % (name, mods[name].ping()))
    elif verb == "import":
        mods[name] = __import__(name)
        say("imported %s" % name)
    elif verb == "doc":
        say("doc %s %s" % (name, mods[name].ping.__doc__))
