# ADD --checksum of an http URL: verified (sha256), and --unpack=true
# extracts a downloaded archive.
echo "remote file" > "$FILES/file.txt"
mkdir -p t/tree && echo one > t/tree/one
tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -C t -cf - tree | gzip -n > "$FILES/archive.tar.gz"
sum=$(sha256sum "$FILES/file.txt" | cut -d' ' -f1)
cat > Dockerfile <<DOCKERFILE
FROM conformance/base
ADD --checksum=sha256:$sum $SERVER/file.txt /checked
ADD --unpack=true $SERVER/archive.tar.gz /unpacked/
DOCKERFILE
