"""Runs `alation-token create-refresh-token` on a pseudo-terminal with no secrets in the
environment, answers its prompts, and checks that the username is echoed, the password is not,
and the token is created; then runs it again and presses Ctrl-C at the password prompt, and
checks that the terminal's echo is back on. Usage: check_prompt.py ALATION_TOKEN URL USERNAME PASSWORD"""
import json
import os
import pty
import signal
import sys
import termios
import time

cli, url, username, password = sys.argv[1:5]
env = {k: v for k, v in os.environ.items() if not k.startswith("ALATION_")}


def spawn():
    pid, fd = pty.fork()
    if pid == 0:
        os.execve(cli, [cli, "create-refresh-token", "--url", url, "--name", "from-prompt"], env)
    return pid, fd


def read_until(marker):
    global out
    deadline = time.monotonic() + 20
    while marker not in out:
        if time.monotonic() > deadline:
            sys.exit(f"timed out waiting for {marker!r}; got {out!r}")
        out += os.read(fd, 1024)


# Ctrl-C at the password prompt: the program dies of SIGINT and leaves the echo on.
pid, fd = spawn()
out = b""
read_until(b"Alation username: ")
os.write(fd, username.encode() + b"\n")
read_until(b"Alation password: ")
if termios.tcgetattr(fd)[3] & termios.ECHO:
    sys.exit("the echo is on at the password prompt")
os.write(fd, b"\x03")
_, status = os.waitpid(pid, 0)
if not os.WIFSIGNALED(status) or os.WTERMSIG(status) != signal.SIGINT:
    sys.exit(f"Ctrl-C did not end the program by SIGINT: status {status}")
if not termios.tcgetattr(fd)[3] & termios.ECHO:
    sys.exit("Ctrl-C at the password prompt left the terminal's echo off")
os.close(fd)

pid, fd = spawn()
out = b""
read_until(b"Alation username: ")
os.write(fd, username.encode() + b"\n")
read_until(b"Alation password: ")
os.write(fd, password.encode() + b"\n")
try:
    while chunk := os.read(fd, 1024):
        out += chunk
except OSError:  # EIO once the child has exited and the pty is closed
    pass
_, status = os.waitpid(pid, 0)
text = out.decode()
if os.WEXITSTATUS(status) != 0:
    sys.exit(f"exit status {os.WEXITSTATUS(status)}: {text}")
if username not in text:
    sys.exit(f"the username was not echoed: {text!r}")
if password in text:
    sys.exit(f"the password was echoed: {text!r}")
token = json.loads(text[text.index("{"):])
if token["name"] != "from-prompt" or token["refresh_token"] != "<redacted>":
    sys.exit(f"unexpected output: {token}")
