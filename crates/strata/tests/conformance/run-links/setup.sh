# Hard links a RUN makes: to a file of a lower layer (the new name is written
# as a file of its own; the old one, only copied up, is no change), between
# files the step made (a hardlink entry), and a file only touched in its
# mode or owner (a change) or left as it was after a copy-up (no change).
true
cat > Dockerfile <<'DOCKERFILE'
FROM conformance/base
RUN ln /existing-file /linked-outside && ln /opt/data/x /opt/data/x-too
RUN echo made > /made && ln /made /made-too && mkdir -p /deep/er && ln /made /deep/er/made-three
RUN chmod 600 /existing-file && chown 1000 /etc/passwd && chmod 755 /real-dir
RUN cp -p /opt/data/x /tmp/x && mv /tmp/x /opt/data/x
DOCKERFILE
