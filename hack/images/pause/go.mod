module wicked.dev/hack/images/pause

go 1.22
