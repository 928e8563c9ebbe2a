# ADD --checksum refuses content with another digest.
echo "remote file" > "$FILES/file.txt"
cat > Dockerfile <<DOCKERFILE
FROM conformance/base
ADD --checksum=sha256:0000000000000000000000000000000000000000000000000000000000000000 $SERVER/file.txt /checked
DOCKERFILE
