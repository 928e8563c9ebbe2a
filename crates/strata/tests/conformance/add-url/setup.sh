# ADD of http URLs: named after the URL path (query dropped), mode 0600
# (docker 20.10 ignores --chmod for URLs), root's unless --chown, never
# unpacked, into WORKDIR, several URLs.
mkdir -p "$FILES/sub"
echo "remote file" > "$FILES/file.txt"
printf 'hello\n' > "$FILES/index"
mkdir -p t/tree && echo one > t/tree/one
tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -C t -cf - tree | gzip -n > "$FILES/archive.tar.gz"
cat > Dockerfile <<DOCKERFILE
FROM conformance/base
ADD $SERVER/file.txt /u1
ADD $SERVER/file.txt /u2/
ADD $SERVER/archive.tar.gz /u3/
ADD $SERVER/file.txt?x=1 /u5/
ADD --chown=tester:staff $SERVER/file.txt /u6/
ADD --chmod=755 $SERVER/file.txt /u7
WORKDIR /w
ADD $SERVER/file.txt .
ADD $SERVER/file.txt $SERVER/index /multi/
DOCKERFILE
