// virtfleet-guest-forward is the guest side of `virtfleet vm port-forward`: it serves the VM's virtio-serial port
// io.virtfleet.portforward.0 and connects each session the node agent opens there to a TCP port inside the guest
// (127.0.0.1 by default). Only the standard library; build it static (CGO_ENABLED=0) and run it as a service, like
// qemu-guest-agent.
//
// Protocol (the agent's PortForwardStream is the other side). Frames: type (1 byte), length (4 bytes, big-endian),
// payload. The host sends O ("SESSION PORT") to start a session, then D (data); it ends a session by disconnecting
// from the channel, which the guest reads as end of file. The guest answers O with one line, "VFPF SESSION OK" or
// "VFPF SESSION ERR reason", then sends D frames and a C frame once the guest's service closed the connection.
package main

import (
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
)

const maxFrame = 64 * 1024

func main() {
	device := flag.String("device", "/dev/virtio-ports/io.virtfleet.portforward.0", "virtio-serial port to serve")
	address := flag.String("address", "127.0.0.1", "address inside the guest that sessions connect to")
	flag.Parse()
	log.SetPrefix("virtfleet-guest-forward: ")
	log.SetFlags(0)
	for {
		f, err := os.OpenFile(*device, os.O_RDWR, 0)
		if err != nil {
			time.Sleep(time.Second) // the port appears once virtio_console is loaded
			continue
		}
		serve(&channel{f: f}, *address)
		f.Close()
		time.Sleep(200 * time.Millisecond)
	}
}

// channel is the virtio-serial port; writes are whole frames (or lines) under one lock, so a session's answer line
// never interleaves with a frame of the previous session still on its way out. current numbers the open session: a
// connection's reader writes only while its session is current, so nothing of an ended session follows the answer
// line of the next one (what was already on its way precedes it, and the host skips it by the session id).
type channel struct {
	f       *os.File
	mu      sync.Mutex
	current uint64
}

var errStale = errors.New("session ended")

// frameFor writes a frame of session id, unless that session has ended.
func (c *channel) frameFor(id uint64, t byte, payload []byte) error {
	b := make([]byte, 5+len(payload))
	b[0] = t
	binary.BigEndian.PutUint32(b[1:5], uint32(len(payload)))
	copy(b[5:], payload)
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.current != id {
		return errStale
	}
	_, err := c.f.Write(b)
	return err
}

// next ends the current session (its reader writes nothing more) and numbers a new one.
func (c *channel) next() uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.current++
	return c.current
}

func (c *channel) write(b []byte) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	_, err := c.f.Write(b)
	return err
}

// readFrame reads one host frame; io.EOF means the host is not (or no longer) connected.
func (c *channel) readFrame() (byte, []byte, error) {
	var h [5]byte
	if _, err := io.ReadFull(c.f, h[:]); err != nil {
		if errors.Is(err, io.ErrUnexpectedEOF) {
			err = io.EOF
		}
		return 0, nil, err
	}
	n := binary.BigEndian.Uint32(h[1:5])
	if n > maxFrame {
		return 0, nil, fmt.Errorf("frame of %d bytes", n)
	}
	p := make([]byte, n)
	if _, err := io.ReadFull(c.f, p); err != nil {
		return 0, nil, io.EOF
	}
	return h[0], p, nil
}

// serve runs sessions one after the other until the port fails.
func serve(c *channel, address string) {
	var conn net.Conn
	end := func() {
		if conn != nil {
			c.next()
			conn.Close()
			conn = nil
		}
	}
	defer end()
	for {
		t, p, err := c.readFrame()
		if err == io.EOF {
			end() // the host left: this session is over
			time.Sleep(100 * time.Millisecond)
			continue
		}
		if err != nil {
			log.Printf("%v", err)
			return
		}
		switch t {
		case 'O':
			end()
			conn = open(c, string(p), address)
		case 'D':
			if conn != nil {
				if _, err := conn.Write(p); err != nil {
					end()
				}
			}
		case 'C':
			if tc, ok := conn.(*net.TCPConn); ok {
				tc.CloseWrite()
			}
		default:
			log.Printf("unknown frame type %d", t)
			return
		}
	}
}

// open connects to the session's port and answers the host; nil when it could not.
func open(c *channel, request, address string) net.Conn {
	parts := strings.Fields(request)
	if len(parts) != 2 {
		log.Printf("bad open request %q", request)
		return nil
	}
	session := parts[0]
	port, err := strconv.Atoi(parts[1])
	if err != nil || port < 1 || port > 65535 {
		c.write([]byte("\nVFPF " + session + " ERR not a TCP port: " + parts[1] + "\n"))
		return nil
	}
	target := net.JoinHostPort(address, strconv.Itoa(port))
	conn, err := net.DialTimeout("tcp", target, 5*time.Second)
	if err != nil {
		c.write([]byte("\nVFPF " + session + " ERR " + strings.ReplaceAll(err.Error(), "\n", " ") + "\n"))
		return nil
	}
	id := c.next()
	if err := c.write([]byte("\nVFPF " + session + " OK\n")); err != nil {
		conn.Close()
		return nil
	}
	go func() {
		buf := make([]byte, 32*1024)
		for {
			n, err := conn.Read(buf)
			if n > 0 {
				if c.frameFor(id, 'D', buf[:n]) != nil {
					return
				}
			}
			if err != nil {
				c.frameFor(id, 'C', nil)
				return
			}
		}
	}()
	return conn
}
