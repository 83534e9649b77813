module github.com/kernelio/aio/gen

go 1.25.0

require (
	github.com/dave/jennifer v1.7.1
	github.com/kernelio/aio v0.0.0-00010101000000-000000000000
)

// The table of architectures (internal/archs) and the pinned-package
// download (internal/debian) are shared with internal/vmtest; Go lets this
// module import them as github.com/kernelio/aio/gen is under
// github.com/kernelio/aio. The package itself stays free of jennifer.
replace github.com/kernelio/aio => ../
