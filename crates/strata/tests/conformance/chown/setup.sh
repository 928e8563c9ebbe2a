# --chown with names and ids resolved in the stage's /etc/passwd and
# /etc/group, created parents owned like the copy; octal --chmod on files
# and directories (docker 20.10 drops set-id bits: 4755 gives 0755); WORKDIR
# under USER.
mkdir -p d/sub
echo a > a
echo b > d/b
echo c > d/sub/c
chmod 700 d/sub
ln -s a alink
cat > Dockerfile <<'DOCKERFILE'
FROM conformance/base
COPY --chown=tester a /o1
COPY --chown=tester:staff a /o2
COPY --chown=1000 a /o3
COPY --chown=1000:50 a /o4
COPY --chown=app a /new/parent/o5
COPY --chown=tester:other d /o6/
COPY --chown=:staff a /o7
COPY --chown=app:1000 a /o8
COPY --chown=5555:6666 d /o9
COPY --chown=tester alink /o10/
COPY --chmod=755 a /m1
COPY --chmod=0640 d /m2
COPY --chmod=4755 a /m3
COPY --chown=tester --chmod=700 d /m4/x/y/
WORKDIR /w
COPY --chown=tester a sub/dir/
USER tester
WORKDIR /userdir/nested
COPY a .
DOCKERFILE
