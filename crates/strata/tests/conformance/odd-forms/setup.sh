# Odd names and forms: JSON-form COPY with a space, non-ASCII names, an
# empty file and a mode-000 file, a destination ending in /. (a file for
# docker 20.10), a tar extracted to a destination without a slash, files
# left in a VOLUME by RUN (BuildKit keeps them), a directory removed (a
# whiteout), a USER without a passwd entry, empty and odd LABEL and ENV
# values, EXPOSE sctp, CMD with invalid JSON (shell form), an ONBUILD ARG,
# exec-form RUN untouched by SHELL.
echo a > "a b.txt"
echo u > "ünï.txt"
touch empty
echo z > zero
chmod 000 zero
mkdir -p t/d
echo 1 > t/d/f
tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -C t -cf tree.tar d
cat > Dockerfile <<'DOCKERFILE'
FROM conformance/base
COPY ["a b.txt", "/dst/"]
COPY ünï.txt empty zero /files/
COPY a* /dot/.
ADD tree.tar /extracted
VOLUME /data
RUN mkdir -p /data && echo x > /data/x && mkdir -p /gone/sub && touch /gone/sub/f
RUN rm -rf /gone /real-dir
USER 4242
RUN id > /tmp/id4242
USER root
LABEL empty= "key with sign"=v tabbed="a\tb" quoted='single $x'
ENV EMPTY= SPACED="a  b"
EXPOSE 80/sctp 7/udp
CMD [not json]
ENTRYPOINT ["/bin/sh", "-c"]
ARG LATE=late
ONBUILD ARG X=1
SHELL ["/bin/sh", "-c"]
RUN ["sh", "-c", "echo exec-not-shelled > /tmp/e"]
DOCKERFILE
