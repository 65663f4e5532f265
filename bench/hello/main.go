// Command hello is the reference of the --version row: a Go hello world.
package main

import "fmt"

func main() { fmt.Println("hello, world") }
