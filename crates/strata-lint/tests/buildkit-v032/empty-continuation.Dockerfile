FROM alpine:3.20
RUN apk add --no-cache \

    curl \
    git
RUN echo one \
# a comment inside
    two
