module github.com/kernelio/aio/gen

go 1.25.0

require github.com/dave/jennifer v1.7.1
