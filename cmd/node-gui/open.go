package main

import (
	"fmt"
	"os/exec"
	"runtime"
)

// openCommand returns the program that opens a URL or a folder with the
// desktop's default application on goos.
func openCommand(goos, target string) (string, []string) {
	switch goos {
	case "darwin":
		return "open", []string{target}
	case "windows":
		return "rundll32", []string{"url.dll,FileProtocolHandler", target}
	}
	return "xdg-open", []string{target}
}

// open opens target (a URL or a folder) in the desktop's default
// application without waiting for it.
func open(target string) error {
	name, args := openCommand(runtime.GOOS, target)
	cmd := exec.Command(name, args...)
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("open %s with %s: %w", target, name, err)
	}
	go cmd.Wait() // reap it; its exit status says nothing about the page
	return nil
}
