# The checks made while typing instructions are kept up to the refused one
# (and its own casing checks); nothing checked later (ENV, CMD ...) is.
FROM alpine:3.20 as Build
MAINTAINER someone
ENV A 1
CMD echo $A
FROM build AS Next-Stage!
CMD echo next
