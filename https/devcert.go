package https

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"math/big"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/httpguard/httpguard/internal/hostport"
)

// DevCertOrganization marks development certificates in their subject, so
// one that escapes into production is recognizable at a glance.
const DevCertOrganization = "httpguard development certificate - NOT FOR PRODUCTION"

// DevCertOptions configures [NewDevCert]. The zero value is valid.
type DevCertOptions struct {
	// Hosts are the names and addresses the certificate is valid for:
	// loopback addresses, "localhost", or names under the special-use
	// domains .localhost, .test, .example and .invalid (RFC 6761), which
	// no public CA can issue for. Default: localhost, 127.0.0.1 and ::1.
	Hosts []string
	// Validity is how long the certificate is valid, from one minute
	// ago. Default 30 days; at most 397 days.
	Validity time.Duration
}

// DevCert is a self-signed development certificate.
type DevCert struct {
	// TLS is ready for tls.Config.Certificates.
	TLS tls.Certificate
	// CertPEM is the certificate, for curl --cacert or a browser's trust
	// store; KeyPEM is its PKCS #8 private key.
	CertPEM, KeyPEM []byte
}

// NewDevCert generates a self-signed ECDSA P-256 certificate for local
// development, so HTTPS works with no setup. It is marked
// [DevCertOrganization] and refuses public names: it is never a substitute
// for a CA-issued certificate ([NewACME]).
func NewDevCert(o DevCertOptions) (*DevCert, error) {
	hosts := o.Hosts
	if len(hosts) == 0 {
		hosts = []string{"localhost", "127.0.0.1", "::1"}
	}
	validity := o.Validity
	var errs []error
	switch {
	case validity == 0:
		validity = 30 * 24 * time.Hour
	case validity < time.Minute || validity > 397*24*time.Hour:
		errs = append(errs, &OptionError{Field: "DevCertOptions.Validity", Value: validity.String(), Err: because(ErrOption, "must be between a minute and 397 days")})
	}
	tmpl := &x509.Certificate{
		Subject:               pkix.Name{Organization: []string{DevCertOrganization}, CommonName: hosts[0]},
		NotBefore:             time.Now().Add(-time.Minute),
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
	}
	tmpl.NotAfter = tmpl.NotBefore.Add(validity)
	for i, h := range hosts {
		if a, err := netip.ParseAddr(strings.Trim(h, "[]")); err == nil {
			if !a.IsLoopback() || a.Zone() != "" {
				errs = append(errs, &OptionError{Field: "DevCertOptions.Hosts[" + strconv.Itoa(i) + "]", Value: h, Err: because(ErrDevHost, "only loopback addresses")})
				continue
			}
			tmpl.IPAddresses = append(tmpl.IPAddresses, a.AsSlice())
			continue
		}
		name, ok := hostport.Normalize(strings.TrimPrefix(h, "*."))
		if !ok || !localName(name) {
			errs = append(errs, &OptionError{Field: "DevCertOptions.Hosts[" + strconv.Itoa(i) + "]", Value: h, Err: because(ErrDevHost, "use a loopback address, localhost, or a name under .localhost, .test, .example or .invalid")})
			continue
		}
		if strings.HasPrefix(h, "*.") {
			name = "*." + name
		}
		tmpl.DNSNames = append(tmpl.DNSNames, name)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 128))
	if err != nil {
		return nil, err
	}
	tmpl.SerialNumber = serial
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, err
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, err
	}
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	keyPEM := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER})
	pair, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return nil, err
	}
	return &DevCert{TLS: pair, CertPEM: certPEM, KeyPEM: keyPEM}, nil
}

// localName reports whether name is localhost or under a special-use
// domain that public CAs never issue for.
func localName(name string) bool {
	if name == "localhost" {
		return true
	}
	for _, tld := range []string{".localhost", ".test", ".example", ".invalid"} {
		if strings.HasSuffix(name, tld) {
			return true
		}
	}
	return false
}
