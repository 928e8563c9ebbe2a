# ADD of local tar archives (plain, gzip, bzip2, xz; detected by content,
# not name), a .tar.gz that is not a tar (copied), several archives, --chown
# and --chmod with archives.
mkdir -p t/tree/sub
echo one > t/tree/one
echo two > t/tree/sub/two
chmod 640 t/tree/sub/two
ln -s one t/tree/l
archive() { tar --sort=name --mtime=@0 --owner=1234 --group=5678 --numeric-owner -C t "$@" tree; }
archive -cf plain.tar
archive -cf - | gzip -n > gz.tar.gz
archive -cf - | bzip2 > bz.tar.bz2
archive -cf - | xz > xz.tar.xz
archive -cf - | gzip -n > noext.bin
archive -cf plain-named.gz
echo "not a tar" | gzip -n > notatar.tar.gz
echo plain > notatar.tar
cp gz.tar.gz renamed.zip
cat > Dockerfile <<'DOCKERFILE'
FROM conformance/base
ADD plain.tar /x/plain/
ADD gz.tar.gz /x/gz
ADD bz.tar.bz2 /x/bz/
ADD xz.tar.xz /x/xz/
ADD noext.bin /x/noext/
ADD plain-named.gz /x/plainnamed/
ADD notatar.tar.gz /x/notatar/
ADD notatar.tar /x/notatar2
ADD renamed.zip /x/zip/
ADD gz.tar.gz plain.tar /x/both/
ADD gz.tar.gz /existing-file-dir/
WORKDIR /w
ADD gz.tar.gz .
ADD --chown=tester gz.tar.gz /chowned/
ADD --chmod=700 gz.tar.gz /chmodded/
DOCKERFILE
