package mail

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/textproto"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	gomail "github.com/wneessen/go-mail"
)

// SMTPSender sends through an SMTP server described by a URL:
//
//	smtp://user:password@host:587?from=peer-support@example.org   (STARTTLS required)
//	smtps://user:password@host:465?from=…                         (implicit TLS)
//	smtp://host:25?from=…&tls=none                                (no TLS: local relays and tests only)
type SMTPSender struct {
	host, user, pass, from string
	port                   int
	implicitTLS            bool
	tls                    gomail.TLSPolicy
}

// NewSMTPSender parses an SMTP URL. It fails on a missing host or from
// address or an unknown tls setting.
func NewSMTPSender(raw string) (*SMTPSender, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("MUTUAL_SMTP_URL is not a URL: %w", err)
	}
	s := &SMTPSender{host: u.Hostname(), from: u.Query().Get("from"), tls: gomail.TLSMandatory}
	switch u.Scheme {
	case "smtp":
		s.port = 587
	case "smtps":
		s.port, s.implicitTLS = 465, true
	default:
		return nil, fmt.Errorf("MUTUAL_SMTP_URL must start smtp:// or smtps://, not %s://", u.Scheme)
	}
	if p := u.Port(); p != "" {
		if s.port, err = strconv.Atoi(p); err != nil {
			return nil, fmt.Errorf("MUTUAL_SMTP_URL port %q is not a number", p)
		}
	}
	if s.host == "" {
		return nil, fmt.Errorf("MUTUAL_SMTP_URL has no host")
	}
	if s.from == "" || !strings.Contains(s.from, "@") {
		return nil, fmt.Errorf("MUTUAL_SMTP_URL needs ?from=address@example.org")
	}
	switch u.Query().Get("tls") {
	case "", "required":
	case "opportunistic":
		s.tls = gomail.TLSOpportunistic
	case "none":
		s.tls = gomail.NoTLS
	default:
		return nil, fmt.Errorf("MUTUAL_SMTP_URL tls= must be required, opportunistic or none")
	}
	if u.User != nil {
		s.user = u.User.Username()
		s.pass, _ = u.User.Password()
	}
	return s, nil
}

// Describe names the server, without credentials.
func (s *SMTPSender) Describe() string { return fmt.Sprintf("SMTP %s:%d", s.host, s.port) }

// Send delivers one message.
func (s *SMTPSender) Send(ctx context.Context, m Message) error {
	msg := gomail.NewMsg()
	if err := msg.From(s.from); err != nil {
		return err
	}
	if err := msg.To(m.To); err != nil {
		return err
	}
	msg.Subject(m.Subject)
	msg.SetDate()
	msg.SetMessageID()
	msg.SetBodyString(gomail.TypeTextPlain, m.Body)
	for _, a := range m.Attachments {
		if err := msg.AttachReader(a.Name, bytes.NewReader(a.Data), gomail.WithFileContentType(gomail.ContentType(a.ContentType))); err != nil {
			return fmt.Errorf("attaching %s: %w", a.Name, err)
		}
	}
	opts := []gomail.Option{gomail.WithPort(s.port), gomail.WithTimeout(20 * time.Second), gomail.WithTLSPolicy(s.tls)}
	if s.implicitTLS {
		opts = append(opts, gomail.WithSSL())
	}
	if s.user != "" {
		opts = append(opts, gomail.WithSMTPAuth(gomail.SMTPAuthAutoDiscover), gomail.WithUsername(s.user), gomail.WithPassword(s.pass))
	}
	c, err := gomail.NewClient(s.host, opts...)
	if err != nil {
		return err
	}
	return c.DialAndSendWithContext(ctx, msg)
}

// FolderSender writes each message as a file in a folder: for demos and
// tests when no SMTP server is configured. Administrators also see the
// outbox in Mutual.
type FolderSender struct {
	Dir string
	n   atomic.Int64
}

// Describe names the folder.
func (f *FolderSender) Describe() string { return "files in " + f.Dir }

// Send writes the message to a new file: plain text, or MIME multipart
// with its attachments (base64), as a mail program would open it.
func (f *FolderSender) Send(_ context.Context, m Message) error {
	if err := os.MkdirAll(f.Dir, 0o700); err != nil {
		return err
	}
	name := fmt.Sprintf("%s-%03d.eml", time.Now().UTC().Format("20060102T150405.000000"), f.n.Add(1)%1000)
	content, err := FormatMessage(m)
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(f.Dir, name), content, 0o600)
}

// FormatMessage writes m as an RFC 5322 message with CRLF line ends: plain
// text, or multipart/mixed with each attachment base64-encoded.
func FormatMessage(m Message) ([]byte, error) {
	var b bytes.Buffer
	fmt.Fprintf(&b, "To: %s\r\nSubject: %s\r\nMIME-Version: 1.0\r\n", m.To, mime.QEncoding.Encode("utf-8", m.Subject))
	body := strings.ReplaceAll(strings.ReplaceAll(m.Body, "\r\n", "\n"), "\n", "\r\n")
	if len(m.Attachments) == 0 {
		fmt.Fprintf(&b, "Content-Type: text/plain; charset=utf-8\r\n\r\n%s\r\n", body)
		return b.Bytes(), nil
	}
	mw := multipart.NewWriter(&b)
	fmt.Fprintf(&b, "Content-Type: multipart/mixed; boundary=%q\r\n\r\n", mw.Boundary())
	part, err := mw.CreatePart(textproto.MIMEHeader{"Content-Type": {"text/plain; charset=utf-8"}})
	if err != nil {
		return nil, err
	}
	if _, err := io.WriteString(part, body+"\r\n"); err != nil {
		return nil, err
	}
	for _, a := range m.Attachments {
		part, err := mw.CreatePart(textproto.MIMEHeader{
			"Content-Type":              {a.ContentType + "; name=" + strconv.Quote(a.Name)},
			"Content-Disposition":       {"attachment; filename=" + strconv.Quote(a.Name)},
			"Content-Transfer-Encoding": {"base64"},
		})
		if err != nil {
			return nil, err
		}
		enc := base64.StdEncoding.EncodeToString(a.Data)
		for len(enc) > 76 {
			if _, err := io.WriteString(part, enc[:76]+"\r\n"); err != nil {
				return nil, err
			}
			enc = enc[76:]
		}
		if _, err := io.WriteString(part, enc+"\r\n"); err != nil {
			return nil, err
		}
	}
	if err := mw.Close(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}
