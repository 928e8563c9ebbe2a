# RUN layer shapes met in real Dockerfiles: a directory emptied but kept,
# a directory whose mode changed, a fifo, a file rewritten with the same
# content, a symlink pointed elsewhere, users and groups added, files made
# deep under existing directories, a file replaced by a directory, and a
# step as another user (groups listed by id).
true
cat > Dockerfile <<'DOCKERFILE'
FROM conformance/base
RUN mkdir -p /var/cache/pkg && echo a > /var/cache/pkg/a && echo b > /var/cache/pkg/b
RUN rm -rf /var/cache/pkg/* && chmod 700 /real-dir && mkfifo /tmp/fifo
RUN cat /existing-file > /tmp/copy && cat /tmp/copy > /existing-file && ln -sf /opt /link-dir-new && rm /link-dir && ln -s /opt /link-dir
RUN echo 'svc:x:1500:1002::/home/svc:/bin/sh' >> /etc/passwd && sed -i 's/^other:x:2000:$/other:x:2000:svc/' /etc/group && mkdir -p /home/tester/.config/app && echo x > /home/tester/.config/app/conf
RUN rm /existing-file && mkdir /existing-file && echo in > /existing-file/in
USER svc
RUN id > /tmp/svc-id
USER svc:other
RUN id > /tmp/svc-other-id
USER 1500
RUN id > /tmp/uid-only-id
DOCKERFILE
